// The Collections tab: a person's collections of clips and a table of clips.
import { clear, el } from "./ui.js";

export function createCollectionsTab(panel, context) {
  return {
    async show() {
      clear(panel);
      panel.append(el("h2", {}, "Collections"));
    },
  };
}
