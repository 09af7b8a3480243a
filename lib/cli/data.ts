// Placeholder: replaced by the module that implements `showcase data`.
import type { Command } from "./command";

export const command: Command = {
  name: "data",
  summary: "not implemented yet",
  usage: "showcase data",
  async run() {
    console.error("showcase data: not implemented yet");
    return 1;
  },
};
