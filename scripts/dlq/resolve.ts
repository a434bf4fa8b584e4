/**
 * Finds a queue and its DLQ the way the services do: the queue URL from the contracts' env var (or by name
 * from the deployment prefix), the DLQ from the queue's own RedrivePolicy — so the tool follows whatever the
 * Pulumi component or the local provisioner actually configured.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { queueNamesFor, queues, type Env, type QueueKey } from "../../runtime/contracts";
import { LOCAL_PREFIX } from "../../runtime/local/stack";

/** Without URL env vars the tool looks queues up by name, as the local stack names them. */
export const DEFAULT_PREFIX = LOCAL_PREFIX;

export interface ResolvedQueue {
  readonly key: QueueKey;
  readonly url: string;
  readonly dlqUrl: string;
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
}

export class ResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResolveError";
  }
}

/** `arn:aws:sqs:<region>:<account>:<name>` → its parts. */
export function parseQueueArn(arn: string): { region: string; account: string; name: string } {
  const m = /^arn:[^:]+:sqs:([^:]*):([^:]*):([^:]+)$/.exec(arn);
  if (!m) throw new ResolveError(`not an SQS queue ARN: "${arn}"`);
  return { region: m[1]!, account: m[2]!, name: m[3]! };
}

async function urlByName(sqs: SQSClient, name: string, account?: string): Promise<string> {
  try {
    const out = await sqs.send(
      new GetQueueUrlCommand({
        QueueName: name,
        ...(account && /^\d{12}$/.test(account) ? { QueueOwnerAWSAccountId: account } : {}),
      }),
    );
    return out.QueueUrl!;
  } catch (err) {
    throw new ResolveError(`queue "${name}" not found: ${(err as Error).message}`);
  }
}

export async function resolveQueue(
  sqs: SQSClient,
  key: QueueKey,
  env: Env,
  prefix: string = DEFAULT_PREFIX,
): Promise<ResolvedQueue> {
  const fromEnv = env[queues[key].envVar]?.trim();
  const url = fromEnv || (await urlByName(sqs, queueNamesFor(prefix, key).name));
  const attrs = await sqs
    .send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy", "FifoQueue"] }))
    .catch((err: Error) => {
      throw new ResolveError(`cannot read the attributes of ${url}: ${err.message}`);
    });
  const policy = attrs.Attributes?.RedrivePolicy;
  if (!policy) throw new ResolveError(`${url} has no RedrivePolicy, so it has no DLQ`);
  const { deadLetterTargetArn, maxReceiveCount } = JSON.parse(policy) as {
    deadLetterTargetArn: string;
    maxReceiveCount: number | string;
  };
  const target = parseQueueArn(deadLetterTargetArn);
  return {
    key,
    url,
    dlqUrl: await urlByName(sqs, target.name, target.account),
    fifo: attrs.Attributes?.FifoQueue === "true",
    maxReceiveCount: Number(maxReceiveCount),
  };
}
