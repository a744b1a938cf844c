// @sparsevit/server: SparseViT as an HTTP service, and batch scans over BullMQ + Redis workers.
// Built on @sparsevit/node's public API only.
export { createDetectService, type DetectService, type ServedModel, type ServiceSettings } from './service/app';
export { startServer, type RunningServer, type ServeSettings } from './service/start-server';
export { AdmissionQueue, type Admission, type AdmissionQueueOptions } from './service/admission-queue';
export { API_KEYS_ENV, createApiKeyCheck, loadApiKeys, parseApiKeys } from './service/api-keys';
export { createServiceMetrics, type ServiceMetrics } from './service/metrics';
export { ServiceError, toServiceError, type ErrorBody, type ServiceErrorCode } from './service/service-error';
export { loadServiceModel, type ModelIdentity, type ModelSettings } from './model-host';
export { PICTURES, renderPicture, type Picture } from './pictures';
export { connectRedis, DEFAULT_QUEUE, failureCode, jobIdFor, openQueue, workerStatsKey, type ScanJobData, type ScanJobResult } from './scan/scan-queue';
export { expandScanInputs, type ScanInput } from './scan/scan-inputs';
export { failedJobs, scanCounts, submitScan, waitForScan, type FailedJob, type ScanCounts, type SubmitScanSettings, type SubmitSummary } from './scan/submit-scan';
export { startScanWorker, STATS_INTERVAL_MS, type RunningScanWorker, type ScanWorkerSettings, type WorkerStats } from './scan/scan-worker';
export { formatScanStatus, readScanStatus, type ScanStatus } from './scan/scan-status';
export { readResult, resultFiles, writeResult, type ScanResultRecord } from './scan/result-files';
export { writeFileAtomic } from './scan/atomic-write';
