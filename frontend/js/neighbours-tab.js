// The Neighbours tab: the closest corpus clips in each embedding space of the bundle.
import { clear, el } from "./ui.js";

export function createNeighboursTab(panel, context) {
  return {
    async show() {
      if (!context.bundle.embedding_spaces.length) {
        clear(panel, el("h2", {}, "Neighbours"),
          el("p", {}, "This bundle has no embedding spaces, so there are no neighbours to list."));
      }
    },
  };
}
