// Placeholder: replaced by the module that implements `showcase env`.
import type { Command } from "./command";

export const command: Command = {
  name: "env",
  summary: "not implemented yet",
  usage: "showcase env",
  async run() {
    console.error("showcase env: not implemented yet");
    return 1;
  },
};
