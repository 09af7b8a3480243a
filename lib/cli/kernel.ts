// Placeholder: replaced by the module that implements `showcase kernel`.
import type { Command } from "./command";

export const command: Command = {
  name: "kernel",
  summary: "not implemented yet",
  usage: "showcase kernel",
  async run() {
    console.error("showcase kernel: not implemented yet");
    return 1;
  },
};
