// Talking to the auralens API: JSON in and out, errors as sentences a person can read.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function describe(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    // FastAPI's validation errors: say which field and why, in one line
    return body.detail.map((d) => `${(d.loc || []).slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
  }
  if (status === 503) return "The server is busy; please try again in a moment.";
  return `The server answered with an error (${status}).`;
}

async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached. Is auralens still running?");
  }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, describe(response.status, body));
  return options.withHeaders ? { body, headers: response.headers, status: response.status } : body;
}

export const getJSON = (url) => request(url);

// The JSON body and the response headers: {body, headers}.
export const getWithHeaders = (url) => request(url, { withHeaders: true });

export const postJSON = (url, data) =>
  request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

export const patchJSON = (url, data) =>
  request(url, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

export const deleteJSON = (url) => request(url, { method: "DELETE" });

// Upload a file: {clip, again}, `again` when this very file was uploaded before (the clip it is).
export async function uploadFile(file, name) {
  const form = new FormData();
  form.append("file", file, name || file.name || "recording.wav");
  const { body, status } = await request("/api/clips", { method: "POST", body: form, withHeaders: true });
  return { clip: body, again: status === 200 };
}

// Follow a job until it is done; onProgress(fraction) as it runs. Resolves with the result.
export async function followJob(jobId, onProgress = () => {}, intervalMs = 400) {
  for (;;) {
    const job = await getJSON(`/api/jobs/${encodeURIComponent(jobId)}`);
    onProgress(job.progress, job.status);
    if (job.status === "done") return job.result;
    if (job.status === "failed") throw new ApiError(200, job.error || "The job failed.");
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") q.set(key, value);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

// Every clip of a listing (`filters`: "origin=corpus&label=cello"...), page by page, so that
// pickers hold all of them however many there are: {total, clips}.
export async function getAllClips(filters = "", pageSize = 500) {
  const clips = [];
  for (let total = Infinity; clips.length < total;) {
    const page = await getJSON(`/api/clips?${filters}${filters ? "&" : ""}limit=${pageSize}&offset=${clips.length}`);
    total = page.total;
    clips.push(...page.clips);
    if (!page.clips.length) break;
  }
  return { total: clips.length, clips };
}
