// Placeholder: replaced by the module that implements `showcase models`.
import type { Command } from "./command";

export const command: Command = {
  name: "models",
  summary: "not implemented yet",
  usage: "showcase models",
  async run() {
    console.error("showcase models: not implemented yet");
    return 1;
  },
};
