// Accounts in the page. On the sign-in page (/login): the form, which signs in and goes back to
// the address the browser first asked for. On the explorer page: who is signed in, and a
// button to sign out - shown only when the server has accounts.
import { ApiError, getJSON } from "./api.js";
import { el } from "./ui.js";

async function send(method, body) {
  const response = await fetch("/api/session", {
    method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    throw new ApiError(response.status, answer?.detail || `The server answered with an error (${response.status}).`);
  }
}

function signInForm(form) {
  const error = document.getElementById("login-error");
  const button = document.getElementById("login-submit");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.hidden = true;
    try {
      await send("POST", { name: form.elements.name.value, password: form.elements.password.value });
      location.replace(`/${location.hash}`); // the permalink the browser was sent here from
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      form.elements.password.value = "";
      form.elements.password.focus();
    } finally {
      button.disabled = false;
    }
  });
}

async function whoIsSignedIn(header) {
  const session = await getJSON("/api/session");
  if (!session.accounts || !session.user) return;
  document.body.dataset.accounts = "true"; // shows what only a shared server has (sharing concepts)
  const signOut = el("button", { type: "button", id: "sign-out", onclick: async () => {
    await send("DELETE");
    location.replace("/login");
  } }, "Sign out");
  header.append(el("p", { class: "account", id: "account" }, "Signed in as ", el("strong", {}, session.user.name), " ", signOut));
}

const form = document.getElementById("login-form");
if (form) signInForm(form);
else whoIsSignedIn(document.querySelector("header.top")).catch(() => {});
