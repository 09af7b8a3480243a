// Placeholder: replaced by the module that implements `showcase train`.
import type { Command } from "./command";

export const command: Command = {
  name: "train",
  summary: "not implemented yet",
  usage: "showcase train",
  async run() {
    console.error("showcase train: not implemented yet");
    return 1;
  },
};
