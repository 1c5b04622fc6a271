// The Concepts tab: musical concepts tested against the model.
import { clear, el } from "./ui.js";

export function createConceptsTab(panel) {
  return {
    async show() {
      clear(panel, el("h2", {}, "Concepts"),
        el("p", {}, "Concept testing is not available on this server yet."));
    },
  };
}
