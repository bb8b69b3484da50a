import type { Policy__Output } from '@mamori/proto';
import { compilePolicies, type RuleProblem } from '@mamori/rules';

/** `upsertPolicy`'s input, as GraphQL hands it over (enums already mapped to proto names). */
export interface PolicyInput {
  id: string;
  name: string;
  mode?: Policy__Output['mode'] | null;
  images?: string[] | null;
  namespaces?: string[] | null;
  podLabels?: { key: string; value: string }[] | null;
  allowedProcesses?: string[] | null;
  deniedProcesses?: string[] | null;
  protectedPaths?: string[] | null;
  allowedDestinations?:
    | {
        cidr: string;
        port?: number | null;
        protocol?: Policy__Output['allowed_destinations'][number]['protocol'] | null;
      }[]
    | null;
  rules?: string | null;
}

/** What makes an input unusable before it is even compiled: a field and why. */
export interface PolicyInputProblem {
  field: string;
  message: string;
}

/** The policy proto's rule for ids (`mamori.v1.Policy.id`). */
const POLICY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_PORT = 65_535;

/**
 * The policy an input describes, for the caller's tenant, written now. The tenant comes from
 * the caller only: the input has no field for it.
 */
export function policyOfInput(
  tenant: string,
  input: PolicyInput,
  updatedUnixMicros: number,
): { policy: Policy__Output; problems: PolicyInputProblem[] } {
  const problems: PolicyInputProblem[] = [];
  if (!POLICY_ID.test(input.id)) {
    problems.push({ field: 'id', message: 'id: 1 to 128 characters of A-Z a-z 0-9 . _ : -' });
  }
  const labels: Record<string, string> = {};
  for (const { key, value } of input.podLabels ?? []) {
    if (key === '') problems.push({ field: 'podLabels', message: 'podLabels: empty key' });
    else if (key in labels) {
      problems.push({ field: 'podLabels', message: `podLabels: ${key} given twice` });
    }
    labels[key] = value;
  }
  const destinations = (input.allowedDestinations ?? []).map((d, index) => {
    const port = d.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
      problems.push({
        field: 'allowedDestinations',
        message: `allowedDestinations[${index}].port: 0 (any) to ${MAX_PORT}`,
      });
    }
    return { cidr: d.cidr, port, protocol: d.protocol ?? 'L4_PROTOCOL_UNSPECIFIED' } as const;
  });
  const policy: Policy__Output = {
    id: input.id,
    name: input.name,
    mode: input.mode ?? 'POLICY_MODE_DETECT',
    rules: input.rules ?? '',
    namespaces: input.namespaces ?? [],
    images: input.images ?? [],
    tenant_id: tenant,
    pod_labels: labels,
    allowed_processes: input.allowedProcesses ?? [],
    denied_processes: input.deniedProcesses ?? [],
    protected_paths: input.protectedPaths ?? [],
    allowed_destinations: destinations,
    updated_unix_micros: updatedUnixMicros,
    deleted: false,
  };
  return { policy, problems };
}

/**
 * What the detector would report compiling the policy (`compilePolicies`): invalid globs,
 * addresses, paths, Falco rule text. A policy with any is refused, so that nothing written
 * to the topic is enforced only in part.
 */
export function policyProblems(policy: Policy__Output): RuleProblem[] {
  return compilePolicies([policy]).problems;
}
