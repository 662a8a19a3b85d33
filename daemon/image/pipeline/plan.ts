import { OutputDir } from '../../caller/files.js';
import type { Caller } from '../../caller/caller.js';
import { decodeAssertion, type ModelInfo } from '../../asserts/index.js';
import type { ChangeEngine } from '../../changes/engine.js';
import type { PassphraseVault } from '../../keys/passphrases.js';
import { imageError } from '../errors.js';
import type { BuildRepository } from './repository.js';
import { readBuildRequest, type BuildOrder, type BuildRequest } from './request.js';
import { outputDirError } from './steps/outputs.js';
import type { BuildChangeData } from './task-data.js';
import { buildStepTaskKind } from './task.js';

/**
 * A build request becomes a change: one task per step it runs (all, or up
 * to `--thru`), its parameters in the change's data, its secrets in memory,
 * and a row in the builds table. Refused before it starts when another
 * build is using its output directory or its `-w` work directory.
 */

/** What starting a build needs from the daemon. */
export interface BuildStartDeps {
  engine: Pick<ChangeEngine, 'create'>;
  builds: BuildRepository;
  /** Holds the first-boot and cloud-init texts for the build's tasks (they may hold network passwords). */
  secrets: PassphraseVault;
}

/** How long a build's first-boot text is held for its tasks at most (a build queued behind others included). */
const buildSecretsTtlMs = 24 * 3600_000;

/** The model's name and brand for the build's row and summary; an undecodable model fails in verify-model, which says why. */
function modelNames(model: string): { name: string; brand: string } {
  try {
    const info = decodeAssertion(model).info as ModelInfo;
    return { name: info.model ?? '(unknown model)', brand: info.brandId ?? '' };
  } catch {
    return { name: '(unknown model)', brand: '' };
  }
}

/** Opens (with the caller's rights, making it if needed) and identifies the output directory, so a second build into it is refused before it starts. */
function outputKeyOf(caller: Caller, dir: string): string {
  let output: OutputDir;
  try {
    output = OutputDir.open(caller, dir, 'output directory');
  } catch (err) {
    throw outputDirError(err, dir);
  }
  const key = output.key;
  output.close();
  return key;
}

/** Refuses a build whose work directory or output directory another running build is using. */
async function checkNotBusy(builds: BuildRepository, caller: Caller, order: BuildOrder, outputKey: string): Promise<void> {
  const { workDir, outputDir } = order.params;
  const sameWork = workDir === undefined ? [] : await builds.activeInWorkDir(caller.uid, workDir);
  if (sameWork.length > 0) {
    throw imageError(
      'output-busy',
      `cannot build in work directory ${workDir}: build ${sameWork[0]!.id} is using it now; wait for it ("coreforge watch ${sameWork[0]!.change}") or choose another work directory with -w`,
    );
  }
  const busy = await builds.activeInto(outputKey);
  if (busy.length > 0) {
    throw imageError(
      'output-busy',
      `cannot build into ${outputDir}: build ${busy[0]!.id} is writing its images there now; wait for it ("coreforge watch ${busy[0]!.change}") or choose another output directory with -O`,
    );
  }
}

/** Starts a build for `caller`: checks the request, makes the change and the build's row; the build's id is its change's id. */
export async function startBuild(deps: BuildStartDeps, caller: Caller, request: BuildRequest): Promise<{ change: string; build: string }> {
  const order = readBuildRequest(request);
  const { params, resume, steps } = order;
  const { name, brand } = modelNames(params.model);
  const outputKey = outputKeyOf(caller, params.outputDir);
  // First-boot and cloud-init texts may hold network passwords: in memory only, never in change data.
  const secretsToken = Object.keys(order.secrets).length > 0 ? deps.secrets.put(JSON.stringify(order.secrets), buildSecretsTtlMs) : undefined;
  const data: BuildChangeData = { params, resume, ...(secretsToken ? { secrets: secretsToken } : {}) };
  try {
    const change = await deps.builds.exclusive(async () => {
      await checkNotBusy(deps.builds, caller, order, outputKey);
      const id = await deps.engine.create({
        owner: caller,
        kind: 'build',
        summary: `${resume ? 'Resume build' : 'Build'} image of model "${name}" into ${params.outputDir}`,
        data: data as unknown as Record<string, unknown>,
        tasks: steps.map((step, i) => ({ kind: buildStepTaskKind, summary: step, data: { step, first: i === 0 } })),
      });
      await deps.builds.create({ id, change: id, model: name, brand, outputDir: params.outputDir, workDir: params.workDir ?? '', created: new Date().toISOString(), owner: caller, outputKey });
      return id;
    });
    return { change, build: change };
  } catch (err) {
    if (secretsToken) deps.secrets.forget(secretsToken);
    throw err;
  }
}
