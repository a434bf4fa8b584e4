/**
 * The image the gateway tasks run: a prebuilt URI as given, or the repo Dockerfile built and pushed to an ECR
 * repository of its own (immutable tags, scanned on push, the last few images kept for rollback).
 */
import * as path from "node:path";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { buildContextTag } from "./image-tag";
import type { Tags } from "./types";

/** Images the ECR lifecycle policy keeps: enough to roll back a few deploys. */
export const GATEWAY_IMAGES_KEPT = 10;

export interface GatewayImageArgs {
  readonly namePrefix: string;
  /** A prebuilt image URI; when unset `dockerContext` is built. Plain: decides the resources. */
  readonly image?: string;
  /** Docker build context holding the Dockerfile. */
  readonly dockerContext: string;
  /** Keep the repository (and its images) on destroy. */
  readonly deletionProtection: boolean;
  readonly tags?: Tags;
}

/** The image URI the task definition points at. */
export function gatewayImage(name: string, a: GatewayImageArgs, parent: pulumi.Resource): pulumi.Output<string> {
  if (a.image !== undefined) return pulumi.output(a.image);
  const repo = new awsx.ecr.Repository(
    `${name}-repo`,
    {
      name: `${a.namePrefix}-gateway`,
      forceDelete: !a.deletionProtection,
      imageScanningConfiguration: { scanOnPush: true },
      // A tag names one image forever: what a task definition points at cannot change under it.
      imageTagMutability: "IMMUTABLE",
      lifecyclePolicy: {
        rules: [
          {
            description: `keep the last ${GATEWAY_IMAGES_KEPT} images`,
            tagStatus: "any",
            maximumNumberOfImages: GATEWAY_IMAGES_KEPT,
          },
        ],
      },
      tags: a.tags,
    },
    { parent },
  );
  const image = new awsx.ecr.Image(
    `${name}-image`,
    {
      repositoryUrl: repo.url,
      context: a.dockerContext,
      dockerfile: path.join(a.dockerContext, "Dockerfile"),
      // Unique per content (tags are immutable); the same when nothing changed, so `up` shows no diff.
      imageTag: buildContextTag(a.dockerContext),
      platform: "linux/amd64",
    },
    { parent },
  );
  return image.imageUri;
}
