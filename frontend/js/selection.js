// The clips a person has picked (a lasso on the map, rows ticked in the table), shared by the
// tabs so that a selection made in one can be listened to, tabled or made a concept in another.
// `source` names where the clips come from: "corpus", "uploads" or "collection:<id>".
const listeners = [];
let current = { source: null, ids: [], label: "" };

// Replace the selection and tell every listener.
export function setSelection(source, ids, label = "") {
  current = { source, ids: [...ids], label };
  listeners.forEach((f) => f(current));
}

// The selection now: { source, ids, label }.
export function getSelection() {
  return current;
}

// Call `f(selection)` each time the selection changes.
export function onSelection(f) {
  listeners.push(f);
}
