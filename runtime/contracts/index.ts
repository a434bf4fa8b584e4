export * from "./drain";
export * from "./env";
export * from "./frames";
export * from "./ids";
export * from "./local";
export * from "./messages";
export * from "./queues";
export * from "./tables";
