// HTML text escaping, shared by every module that writes HTML (notebook displays, the report page,
// SVG labels). Plain strings; no DOM.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!);
}
