// The dataset download (`npx showcase data download`): the shared resumable, verified downloader with
// the data stage's advice for a machine that cannot download.
import { type DownloadOptions, type DownloadResult, downloadFile } from "../io/download";

export { DownloadError } from "../io/download";

/** Microsoft's PetImages archive (the Kaggle Dogs vs. Cats photos, 12,500 per class). */
export const DEFAULT_PETIMAGES = {
  url: "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
  fileName: "kagglecatsanddogs_5340.zip",
  // Content-Length as served by download.microsoft.com (seen in several public wget logs). No
  // published sha256 was found, so only the size is verified by default; the hash is printed.
  bytes: 824_887_076,
  sha256: undefined as string | undefined,
};

export function downloadDataset(opts: DownloadOptions): Promise<DownloadResult> {
  return downloadFile({
    manualHint: `Download it by other means (a browser), put it at ${opts.file}, then run \`npx showcase data prepare --data-dir ${opts.file}\`.`,
    ...opts,
  });
}
