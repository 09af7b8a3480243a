// `showcase kernel install` (= `npm run kernel:install`): register the tslab kernel for JupyterLab.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { DEFAULT_KERNEL_NAME, KERNEL_DISPLAY_NAME, installKernelSpec } from "../notebook/kernelspec";
import { projectPath } from "../paths";
import { findExecutable } from "../system/nvidia-smi";
import { type Command, UsageError, parseFlags, rejectUnknownFlags } from "./command";

export const command: Command = {
  name: "kernel",
  summary: "install: write a Jupyter kernelspec for the tslab TypeScript kernel (no Python needed)",
  usage: `showcase kernel install [--name ${DEFAULT_KERNEL_NAME}] [--display-name "${KERNEL_DISPLAY_NAME}"] [--prefix DIR]`,
  async run(args) {
    const { flags, positional } = parseFlags(args);
    rejectUnknownFlags(flags, ["name", "display-name", "prefix"]);
    if (positional[0] !== "install" || positional.length > 1) {
      throw new UsageError(`${positional[0] ? `unknown subcommand "${positional.join(" ")}"` : "missing subcommand"}: allowed install`);
    }
    const installed = await installKernelSpec({ name: flags.get("name"), displayName: flags.get("display-name"), prefix: flags.get("prefix") });
    console.log(`kernel "${installed.name}" (${installed.spec.display_name}) installed: ${installed.specPath}`);
    console.log(`  starts: ${installed.spec.argv.slice(0, 2).join(" ")} kernel …`);
    if (installed.replaced) console.log(`  replaced an earlier spec that started: ${installed.replaced.argv?.slice(0, 2).join(" ")}`);
    console.log(`  (it uses this Node.js binary; run npm run kernel:install again after moving the project or changing Node)`);
    console.log("");
    const notebooks = path.relative(process.cwd(), projectPath("notebooks")) || ".";
    const lab = findExecutable("jupyter-lab");
    if (!lab) {
      const classic = findExecutable("jupyter-notebook");
      console.log(`Next: JupyterLab is not on PATH${classic ? " (the classic `jupyter notebook` is, and works too)" : ""}. Install it with one of`);
      console.log("  pipx install jupyterlab        (or: python3 -m pip install --user jupyterlab, or: conda install -c conda-forge jupyterlab)");
      console.log(`then open the notebooks:  jupyter lab ${notebooks}/   and pick the kernel "${installed.spec.display_name}"`);
    } else {
      console.log(`Next: jupyter lab ${notebooks}/   and pick the kernel "${installed.spec.display_name}" (kernel name "${installed.name}")`);
    }
    const jupyter = findExecutable("jupyter");
    if (jupyter && kernelVisible(jupyter, installed.name) === false) {
      const dataDir = path.dirname(path.dirname(installed.dir));
      console.log(`  note: \`jupyter kernelspec list\` does not show "${installed.name}"; add its folder to Jupyter's path: export JUPYTER_PATH=${dataDir}`);
    }
    console.log(`Headless instead: npm run report   (same notebooks, same kernel, writes reports/index.html)`);
    return 0;
  },
};

/** Whether `jupyter kernelspec list` sees the kernel; undefined when jupyter could not answer. */
function kernelVisible(jupyter: string, name: string): boolean | undefined {
  const result = spawnSync(jupyter, ["kernelspec", "list", "--json"], { encoding: "utf8", timeout: 15_000 });
  if (result.status !== 0) return undefined;
  try {
    return name in (JSON.parse(result.stdout) as { kernelspecs: Record<string, unknown> }).kernelspecs;
  } catch {
    return undefined;
  }
}
