// Placeholder: replaced by the module that implements `showcase weights`.
import type { Command } from "./command";

export const command: Command = {
  name: "weights",
  summary: "not implemented yet",
  usage: "showcase weights",
  async run() {
    console.error("showcase weights: not implemented yet");
    return 1;
  },
};
