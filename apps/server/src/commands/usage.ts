/**
 * Usage texts of `sparsevit serve`, `scan` and `worker` (also the `sparsevit-serve`,
 * `sparsevit-scan` and `sparsevit-worker` commands of this package). Plain strings with no
 * imports, so `sparsevit --help` can show them without loading a runtime.
 */

const MODEL_FLAGS = `  -w, --weights <file>      .pth, .safetensors or .onnx weights (default: the SDK's default
                            model, sparsevit-small-synth, trained on synthetic manipulations)
  -c, --config <json|name>  Model config JSON file or preset (default: from the weights, else "base")
  -d, --device <name>       cpu | cuda | webgpu (default cpu)
      --fallback-cpu        Run on the CPU when the device is not available
      --threads <n>         ONNX Runtime threads per operator (default: every core)
      --max-pixels <n>      Largest accepted image in pixels, read from its header (default 40000000)
      --log-level <level>   fatal | error | warn | info | debug (default info); JSON lines on stdout`;

export const SERVE_USAGE = `Usage: sparsevit serve [--weights <file>] [options]

Serves SparseViT over HTTP: POST /v1/detect (an image as the body or a multipart file),
GET /v1/model, /healthz, /readyz, /metrics (Prometheus), /docs (OpenAPI). Stops
gracefully on SIGTERM or SIGINT: in-flight requests finish, then it exits 0.

Options:
${MODEL_FLAGS}
      --host <addr>         Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
      --port <n>            Port (default 8080; 0 picks a free one)
  -t, --threshold <p>       Default mask threshold in [0, 1] (default 0.5)
      --max-body-bytes <n>  Largest request body (default 20971520, 20 MiB)
      --concurrency <n>     Requests inside the model at once (default 1 on cpu, 2 on a GPU)
      --max-queue <n>       Requests waiting for the model; past that 503 + Retry-After (default 8)
      --request-timeout-ms <n>    Time to receive a request (default 30000)
      --inference-timeout-ms <n>  Time from admission to the answer (default 30000)
      --shutdown-timeout-ms <n>   Time in-flight requests get on shutdown (default 30000)
      --api-keys-file <file>      Bearer tokens, one per line (also: SPARSEVIT_API_KEYS=k1,k2)
      --cors-origin <origin>      Allow this origin (repeatable; * for any; default: no CORS)
      --no-incremental-marking    V8's incremental marking off: less CPU per request under
                                  concurrent load, more memory under overload (see README)
  -h, --help                Show this help

Exit codes: 0 stopped after draining; 1 the model could not be loaded, or the shutdown
deadline passed with requests unfinished; 2 usage error.`;

export const WORKER_USAGE = `Usage: sparsevit worker --redis <url> [--weights <file>] [options]

Takes the images that 'sparsevit scan' queued and writes each result (<stem>.json and
<stem>.mask.png, atomically) to the output folder the scan named. Run any number, on any
number of machines that see the images and the output folder at the same paths; several on
one machine do best with --threads <cores / workers>. Stops on SIGTERM or SIGINT after its
current job.

Options:
      --redis <url>         redis://host:port (default: SPARSEVIT_REDIS_URL)
      --queue <name>        Queue name (default sparsevit-scan)
${MODEL_FLAGS}
      --concurrency <n>     Jobs at once in this process (default 1)
      --lock-ms <n>         A job whose worker stops renewing its lock this long is retried
                            by another (default 30000)
      --name <name>         Name shown by 'scan --status' (default <host>-<pid>)
  -h, --help                Show this help`;

export const SCAN_USAGE = `Usage: sparsevit scan <folders, images or list files...> --redis <url> --out <dir> [options]
       sparsevit scan --status --redis <url> [--queue <name>] [--json]

Queues one job per image for 'sparsevit worker' processes, then shows their progress as a
bar until the queue is done. Folders are searched recursively for image files; a file with
another extension is a list of paths, one per line. The job id is the image's SHA-256, so
submitting again adds only new images. Results: <out>/<stem>.json and <stem>.mask.png, the
stem being the path below the folder without its extension.

Options:
      --redis <url>         redis://host:port (default: SPARSEVIT_REDIS_URL)
      --queue <name>        Queue name (default sparsevit-scan)
  -o, --out <dir>           Shared output folder the workers write to (required)
  -t, --threshold <p>       Mask threshold in [0, 1] (default 0.5)
      --attempts <n>        Tries per image for errors that may pass, e.g. an unreadable file
                            (default 3; a bad image fails at once)
      --backoff-ms <n>      First retry delay, doubled each time (default 2000)
      --detach              Queue the jobs and exit without waiting
      --status              Show the queue's progress: done, failed, waiting, per-worker rate
      --json                Print the submission or the status as JSON
  -h, --help                Show this help

Exit codes: 0 every image done; 1 any image failed or could not be read; 2 usage error.`;
