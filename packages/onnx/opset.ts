/**
 * Operator-set versions: which opset a model (or function) imports for a domain, which schema
 * version of a default-domain operator is in effect at an opset, and which of a model's operators
 * exist over a range of opsets. The default domain is written "" or "ai.onnx"; both are the same.
 *
 * The catalog of default-domain schema versions comes from ONNX's own registrations (see
 * {@linkcode LATEST_KNOWN_OPSET} for how far it goes).
 *
 * @example
 * ```ts
 * import { decodeModel, opsetVersion } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * opsetVersion(model, "ai.onnx"); // e.g. 13
 * ```
 * @module
 */
import type { FunctionProto, ModelProto, NodeProto } from "./_gen/onnx_pb.ts";
import {
  DEPRECATED_SINCE,
  LATEST_KNOWN_OPSET as LATEST,
  schemaVersionAt,
  SINCE_VERSIONS,
} from "./_op_schemas.ts";
import { walkNodes } from "./subgraphs.ts";

/**
 * The newest default-domain opset whose schema changes this package knows (opset 23, ONNX 1.18).
 * Functions that need the catalog refuse opsets above it.
 *
 * @example
 * ```ts
 * import { LATEST_KNOWN_OPSET, raiseOpset } from "@modelpress/onnx";
 * import { makeGraph, makeModel } from "@modelpress/onnx";
 * raiseOpset(makeModel(makeGraph("g"), { opsetImports: [{ version: 13 }] }), LATEST_KNOWN_OPSET);
 * ```
 */
export const LATEST_KNOWN_OPSET: number = LATEST;

/**
 * Whether a domain is the default ONNX domain ("" and "ai.onnx" are the same).
 *
 * @param domain A node or opset domain.
 * @returns True for "" and "ai.onnx".
 * @example
 * ```ts
 * import { isDefaultDomain } from "@modelpress/onnx";
 * isDefaultDomain("ai.onnx"); // true
 * ```
 */
export function isDefaultDomain(domain: string): boolean {
  return domain === "" || domain === "ai.onnx";
}

/**
 * The canonical spelling of a domain: "" for the default domain, the domain itself otherwise.
 *
 * @param domain A node or opset domain.
 * @returns "" for "" and "ai.onnx", else `domain`.
 * @example
 * ```ts
 * import { normalizeDomain } from "@modelpress/onnx";
 * normalizeDomain("ai.onnx"); // ""
 * ```
 */
export function normalizeDomain(domain: string): string {
  return isDefaultDomain(domain) ? "" : domain;
}

/**
 * The opset version a model or a function imports for a domain.
 *
 * @param owner A model, or a function (whose body has its own imports).
 * @param domain The domain; "" and "ai.onnx" both mean the default domain.
 * @returns The version, or `undefined` when the domain is not imported.
 * @throws {RangeError} When the owner imports the domain twice with different versions.
 * @example
 * ```ts
 * import { makeGraph, makeModel, opsetVersion } from "@modelpress/onnx";
 * const model = makeModel(makeGraph("g"), { opsetImports: [{ domain: "", version: 13 }] });
 * opsetVersion(model, "ai.onnx"); // 13
 * ```
 */
export function opsetVersion(
  owner: ModelProto | FunctionProto,
  domain: string,
): number | undefined {
  const wanted = normalizeDomain(domain);
  let found: number | undefined;
  for (const entry of owner.opsetImport) {
    if (normalizeDomain(entry.domain) !== wanted) continue;
    const version = Number(entry.version);
    if (found !== undefined && found !== version) {
      throw new RangeError(
        `Cannot read the opset of domain '${wanted || "ai.onnx"}': it is imported as both ` +
          `${found} and ${version}`,
      );
    }
    found = version;
  }
  return found;
}

/**
 * The opset version that applies to a node: the owner's import for the node's domain.
 *
 * @param owner The model, or the function whose body holds the node.
 * @param node The node.
 * @returns The version, or `undefined` when the node's domain is not imported.
 * @example
 * ```ts
 * import { makeGraph, makeModel, makeNode, nodeOpsetVersion } from "@modelpress/onnx";
 * const model = makeModel(makeGraph("g"), { opsetImports: [{ version: 17 }] });
 * nodeOpsetVersion(model, makeNode("Relu")); // 17
 * ```
 */
export function nodeOpsetVersion(
  owner: ModelProto | FunctionProto,
  node: NodeProto,
): number | undefined {
  return opsetVersion(owner, node.domain);
}

/**
 * The schema version of a default-domain operator in effect at an opset (the newest "since
 * version" not above it).
 *
 * @param opType The operator, e.g. "Squeeze".
 * @param opset A default-domain opset version.
 * @returns The since version, or `undefined` when the operator does not exist at that opset
 *   (not introduced yet, deprecated, or not a default-domain operator).
 * @throws {RangeError} When `opset` is above {@linkcode LATEST_KNOWN_OPSET}.
 * @example
 * ```ts
 * import { opSchemaVersion } from "@modelpress/onnx";
 * opSchemaVersion("Squeeze", 12); // 11
 * opSchemaVersion("Upsample", 11); // undefined (deprecated since 10)
 * ```
 */
export function opSchemaVersion(opType: string, opset: number): number | undefined {
  checkKnown(opset, "look up a schema at");
  const deprecated = DEPRECATED_SINCE.get(opType);
  if (deprecated !== undefined && opset >= deprecated) return undefined;
  return schemaVersionAt(opType, opset);
}

/** A range of default-domain opset versions, both ends included. */
export interface OpsetRange {
  /** The lowest version. */
  readonly min: number;
  /** The highest version. */
  readonly max: number;
}

/**
 * Whether a node's operator exists over an opset range: everywhere in it, in part of it, nowhere,
 * or unknown (a domain other than the default one, which the catalog does not cover).
 */
export type OpAvailability = "available" | "partial" | "missing" | "unknown";

/** What {@linkcode checkOpsetRange} found for one node. */
export interface OpRangeCheck {
  /** The path of the graph or function holding the node (see `walkGraphs`). */
  readonly path: string;
  /** The node. */
  readonly node: NodeProto;
  /** The node's domain, "" for the default domain. */
  readonly domain: string;
  /** The operator. */
  readonly opType: string;
  /** The verdict. */
  readonly availability: OpAvailability;
  /** The first version of the range at which the operator exists, if any. */
  readonly availableFrom: number | undefined;
  /** The last version of the range at which the operator exists, if any. */
  readonly availableTo: number | undefined;
  /**
   * The schema versions in effect over the part of the range where the operator exists; more than
   * one means its signature or semantics changed inside the range.
   */
  readonly schemaVersions: readonly number[];
  /** Why it is not available everywhere, in plain words; `undefined` when it is. */
  readonly reason: string | undefined;
}

/**
 * Checks, for every node of a model (main graph, subgraphs, function bodies, training graphs),
 * whether its operator exists at every default-domain opset of a range, e.g. the range a runtime
 * supports. Calls of the model's local functions count as available. Other domains are
 * "unknown".
 *
 * @param model The model.
 * @param range The opset range.
 * @returns One entry per node, in `walkNodes` order.
 * @throws {RangeError} When the range is empty, below 1 or above {@linkcode LATEST_KNOWN_OPSET}.
 * @example
 * ```ts
 * import { checkOpsetRange, decodeModel } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const missing = checkOpsetRange(model, { min: 13, max: 21 }).filter((c) => c.availability !== "available");
 * ```
 */
export function checkOpsetRange(model: ModelProto, range: OpsetRange): OpRangeCheck[] {
  const { min, max } = range;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || min > max) {
    throw new RangeError(
      `Cannot check opset range ${min}..${max}: it is not a range of versions >= 1`,
    );
  }
  checkKnown(max, "check opsets up to");
  const localFunctions = new Set(
    model.functions.map((f) => `${normalizeDomain(f.domain)}\u0000${f.name}`),
  );
  const checks: OpRangeCheck[] = [];
  for (const { node, owner } of walkNodes(model)) {
    const domain = normalizeDomain(node.domain);
    const base = { path: owner.path, node, domain, opType: node.opType };
    if (localFunctions.has(`${domain}\u0000${node.opType}`)) {
      checks.push({
        ...base,
        availability: "available",
        availableFrom: min,
        availableTo: max,
        schemaVersions: [],
        reason: undefined,
      });
      continue;
    }
    if (domain !== "") {
      checks.push({
        ...base,
        availability: "unknown",
        availableFrom: undefined,
        availableTo: undefined,
        schemaVersions: [],
        reason: `domain '${domain}' is not in the catalog (it covers the default domain)`,
      });
      continue;
    }
    checks.push({ ...base, ...rangeOf(node.opType, min, max) });
  }
  return checks;
}

type RangeVerdict = Pick<
  OpRangeCheck,
  "availability" | "availableFrom" | "availableTo" | "schemaVersions" | "reason"
>;

function rangeOf(opType: string, min: number, max: number): RangeVerdict {
  const versions = SINCE_VERSIONS.get(opType);
  if (versions === undefined || versions.length === 0) {
    return {
      availability: "missing",
      availableFrom: undefined,
      availableTo: undefined,
      schemaVersions: [],
      reason: `'${opType}' is not an operator of the default ONNX domain`,
    };
  }
  const introduced = versions[0] ?? 1;
  const deprecated = DEPRECATED_SINCE.get(opType);
  const from = Math.max(min, introduced);
  const to = Math.min(max, deprecated === undefined ? max : deprecated - 1);
  if (from > to) {
    return {
      availability: "missing",
      availableFrom: undefined,
      availableTo: undefined,
      schemaVersions: [],
      reason: introduced > max
        ? `'${opType}' was introduced in opset ${introduced}`
        : `'${opType}' is deprecated since opset ${deprecated}`,
    };
  }
  const schemaVersions: number[] = [];
  const first = schemaVersionAt(opType, from);
  if (first !== undefined) schemaVersions.push(first);
  for (const v of versions) if (v > from && v <= to) schemaVersions.push(v);
  const whole = from === min && to === max;
  const reasons: string[] = [];
  if (from > min) reasons.push(`'${opType}' was introduced in opset ${introduced}`);
  if (to < max) reasons.push(`'${opType}' is deprecated since opset ${deprecated}`);
  return {
    availability: whole ? "available" : "partial",
    availableFrom: from,
    availableTo: to,
    schemaVersions,
    reason: whole ? undefined : reasons.join("; "),
  };
}

function checkKnown(opset: number, verb: string): void {
  if (opset > LATEST) {
    throw new RangeError(
      `Cannot ${verb} opset ${opset}: the operator catalog describes opsets up to ${LATEST}`,
    );
  }
}
