// Placeholder: replaced by the module that implements `showcase report`.
import type { Command } from "./command";

export const command: Command = {
  name: "report",
  summary: "not implemented yet",
  usage: "showcase report",
  async run() {
    console.error("showcase report: not implemented yet");
    return 1;
  },
};
