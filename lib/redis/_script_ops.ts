/**
 * What every primitive's Redis side shares: its driver, keys and settings,
 * its channels, and how it runs one of its scripts.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type { Script } from "./_scripts.ts";
import { runScript } from "./_script_runner.ts";

/** The channels every primitive's keys name. */
export interface PrimitiveChannels {
  /** The channel on which releases are announced to race-mode waiters. */
  readonly channel: string;
  /** This process's hand-off channel (`<channel>:<mark>`). */
  readonly grants: string;
}

/** The base of a primitive's Redis side (see `HolderOps`). */
export abstract class ScriptOps<K extends PrimitiveChannels, C> {
  /** How to reach Redis. */
  protected readonly driver: RedisDriver;
  /** The primitive's keys and channels. */
  protected readonly keys: K;
  /** The primitive's settings. */
  protected readonly config: C;

  /**
   * @param driver How to reach Redis.
   * @param keys The primitive's keys and channels.
   * @param config Its settings.
   */
  constructor(driver: RedisDriver, keys: K, config: C) {
    this.driver = driver;
    this.keys = keys;
    this.config = config;
  }

  /** The channel on which releases are announced to race-mode waiters. */
  get channel(): string {
    return this.keys.channel;
  }

  /** This process's hand-off channel. */
  get grants(): string {
    return this.keys.grants;
  }

  /** Runs `script` (EVALSHA, with the NOSCRIPT fallback). */
  protected eval(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.driver, script, keys, args);
  }
}
