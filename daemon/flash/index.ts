// The flash library's public face, for the API and CLI wiring.
export { listDrives, systemDriveSources, type Drive, type DriveSources, type ListDrivesOptions, type Partition } from './drives.js';
export { diffDrives, watchDrives, type DriveChange } from './drive-watch.js';
export { flashImage, type ExpectedDrive, type FlashOptions, type FlashRequest, type FlashResult, type FlashTargetResult } from './flash.js';
export { verifyDrive, type DriveCheck } from './verify-drive.js';
export { driveVerdict, isRefused, largeDriveBytes, refusal, type DriveFacts, type Verdict, type VerdictContext } from './verdict.js';
export type { FlashErrorKind } from './errors.js';
export type { FlashPhase, FlashProgress, FlashProgressCallback } from './progress.js';
export { formatRange, type ByteRange } from './ranges.js';
