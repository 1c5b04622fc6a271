// The Map tab: the clips of a corpus or collection in two dimensions.
import { clear, el } from "./ui.js";

export function createMapTab(panel, context) {
  return {
    async show() {
      clear(panel);
      panel.append(el("h2", {}, "Map"));
    },
  };
}
