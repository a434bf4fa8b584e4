/**
 * Parley on AWS: read the `parley:*` config, compose the components, export what users and operators need.
 * Everything else lives in components/.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Alerts } from "./components/alerts";
import { loadConfig } from "./components/config";
import { GatewayService } from "./components/gateway-service";
import { Monitoring } from "./components/monitoring";
import { Persister } from "./components/persister";
import { QueueWithDlq } from "./components/queue-with-dlq";
import { Tables } from "./components/tables";
import type { QueueRef, TableRef } from "./components/types";
import { gatewayTables, persisterTables, queueNamesFor, queues, tableKeys, type TableKey } from "./runtime/contracts";

const config = loadConfig();
const prefix = config.namePrefix;
const tags = { app: "parley", stack: pulumi.getStack() };

const alerts = new Alerts("alerts", { namePrefix: prefix, email: config.alarmEmail, tags });
const alarmActions = [alerts.topicArn];

const inbound = new QueueWithDlq("inbound", {
  definition: queues.inbound,
  names: queueNamesFor(prefix, "inbound"),
  alarmActions,
  tags,
});
const notify = new QueueWithDlq("notify", {
  definition: queues.notify,
  names: queueNamesFor(prefix, "notify"),
  // Notifications are for people online now; minutes-old ones mean the gateways are not consuming.
  maxMessageAgeSeconds: 120,
  alarmActions,
  tags,
});

const data = new Tables("tables", { namePrefix: prefix, deletionProtection: config.deletionProtection, tags });
const tableRef = (k: TableKey): TableRef => ({ name: data.tables[k].name, arn: data.tables[k].arn });
const pick = <K extends TableKey>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, tableRef(k)])) as Record<K, TableRef>;
const inboundQueue: QueueRef = { arn: inbound.queue.arn, url: inbound.queue.url };
const notifyQueue: QueueRef = { arn: notify.queue.arn, url: notify.queue.url };

// The gateway checks an edit when it arrives and the persister again in the log's order: the same window for both.
const editWindowSeconds = config.editWindowSeconds;

const persister = new Persister("persister", {
  namePrefix: prefix,
  handlerEntry: path.join(__dirname, "runtime/persister/lambda.ts"),
  inboundQueue,
  inboundVisibilityTimeoutSeconds: queues.inbound.visibilityTimeoutSeconds,
  notifyQueue,
  tables: pick(persisterTables),
  memoryMb: config.persister.memoryMb,
  timeoutSeconds: config.persister.timeoutSeconds,
  batchSize: config.persister.batchSize,
  maxConcurrency: config.persister.maxConcurrency,
  editWindowSeconds,
  logRetentionDays: config.logRetentionDays,
  alarmActions,
  tags,
});

const gateway = new GatewayService("gateway", {
  namePrefix: prefix,
  network: config.network,
  ...config.gateway,
  editWindowSeconds,
  deletionProtection: config.deletionProtection,
  logRetentionDays: config.logRetentionDays,
  inboundQueue,
  notifyQueue,
  tables: pick(gatewayTables),
  tags,
});

const monitoring = new Monitoring("monitoring", {
  namePrefix: prefix,
  queues: [
    { label: "inbound", queueName: inbound.queue.name, dlqName: inbound.deadLetterQueue.name },
    { label: "notify", queueName: notify.queue.name, dlqName: notify.deadLetterQueue.name },
  ],
  persisterFunctionName: persister.function.name,
  clusterName: gateway.clusterName,
  serviceName: gateway.serviceName,
  loadBalancerArnSuffix: gateway.loadBalancerArnSuffix,
  targetGroupArnSuffix: gateway.targetGroupArnSuffix,
  alarmActions,
  tags,
});

export const appUrl = gateway.url;
export const wsUrl = gateway.wsUrl;
export const inboundQueueUrl = inbound.queue.url;
export const inboundDlqUrl = inbound.deadLetterQueue.url;
export const notifyQueueUrl = notify.queue.url;
export const notifyDlqUrl = notify.deadLetterQueue.url;
export const tableNames = Object.fromEntries(tableKeys.map((k) => [k, data.tables[k].name]));
export const dashboardUrl = monitoring.dashboardUrl;
export const alarmTopicArn = alerts.topicArn;
export const gatewayImage = gateway.imageUri;
