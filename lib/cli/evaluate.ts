// Placeholder: replaced by the module that implements `showcase evaluate`.
import type { Command } from "./command";

export const command: Command = {
  name: "evaluate",
  summary: "not implemented yet",
  usage: "showcase evaluate",
  async run() {
    console.error("showcase evaluate: not implemented yet");
    return 1;
  },
};
