/**
 * The Parley policy pack: `pulumi preview --policy-pack policy` runs it on every resource of the stack.
 * The rules are in rules.ts (importable without starting a pack); throwaway-stack.json is the config for
 * stacks that set parley:deletionProtection false and parley:allowInsecureHttp true.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("parley", {
  description: "Security Hub FSBP controls Parley is built to pass, HTTPS unless allowed, no data actions on *.",
  enforcementLevel: "mandatory",
  policies,
});
