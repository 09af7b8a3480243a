// A gallery of misclassified validation images with the probability the model gave its wrong answer
// (most confident mistakes first): small inline JPEG thumbnails, so the page stays self-contained.
import * as path from "node:path";
import sharp from "sharp";
import type { Evaluation } from "../schemas/evaluation";
import { escapeHtml } from "../html";


async function thumbnail(file: string, size: number): Promise<string | undefined> {
  try {
    const jpeg = await sharp(file, { failOn: "none" }).rotate().resize(size, size, { fit: "cover" }).jpeg({ quality: 70 }).toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  } catch {
    return undefined; // the image moved or is unreadable here: show the caption alone
  }
}

export async function misclassifiedGalleryHtml(evaluation: Evaluation, opts: { limit?: number; size?: number } = {}): Promise<string> {
  const limit = opts.limit ?? 12;
  const size = opts.size ?? 112;
  const shown = evaluation.misclassified.slice(0, limit);
  if (shown.length === 0) return `<p><strong>${escapeHtml(evaluation.displayName)}</strong>: no misclassified images among ${evaluation.images}.</p>`;
  const figures = await Promise.all(
    shown.map(async (m) => {
      // Shown relative to the dataset root, never as a local absolute path (older evaluations held those: name only).
      const shownPath = path.isAbsolute(m.path) ? path.basename(m.path) : m.path;
      const src = await thumbnail(path.resolve(evaluation.imageRoot ?? "", m.path), size);
      const image = src ? `<img src="${src}" width="${size}" height="${size}" alt="${escapeHtml(m.label)}">` : `<div style="width:${size}px;height:${size}px;background:#eee"></div>`;
      return `<figure style="margin:4px;width:${size}px;font-size:11px;text-align:center" title="${escapeHtml(shownPath)}">${image}<figcaption>${escapeHtml(m.label)} → <strong>${escapeHtml(m.predicted)}</strong> ${(100 * m.predictedProbability).toFixed(0)} %</figcaption></figure>`;
    }),
  );
  const caption = `${escapeHtml(evaluation.displayName)}: ${evaluation.misclassified.length} of ${evaluation.images} validation images misclassified${evaluation.misclassified.length > limit ? ` (the ${limit} most confident shown)` : ""}; true class → predicted, with its probability`;
  return `<div class="showcase-gallery"><p>${caption}</p><div style="display:flex;flex-wrap:wrap">${figures.join("")}</div></div>`;
}
