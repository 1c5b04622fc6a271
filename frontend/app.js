// Shows which server, version and device the page is talking to.
const status = document.getElementById("status");

async function showHealth() {
  try {
    const response = await fetch("/api/health");
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const health = await response.json();
    status.textContent = `auralens ${health.version} · bundle ${health.bundle} · running on ${health.device.toUpperCase()}`;
  } catch (error) {
    status.textContent = `The server cannot be reached (${error.message}).`;
  }
}

showHealth();
