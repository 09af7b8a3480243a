// Placeholder: replaced by the module that implements `showcase bench`.
import type { Command } from "./command";

export const command: Command = {
  name: "bench",
  summary: "not implemented yet",
  usage: "showcase bench",
  async run() {
    console.error("showcase bench: not implemented yet");
    return 1;
  },
};
