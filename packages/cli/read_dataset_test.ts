import assert from "node:assert/strict";
import { withTempDir } from "../../test/support/temp_dir.ts";
import { UsageError } from "./parse_args.ts";
import { readCalibration } from "./read_dataset.ts";

Deno.test("readCalibration() wants --calibration exactly when something needs it", async () => {
  const options = { usedBy: "--method static" };
  await assert.rejects(
    readCalibration(undefined, { ...options, neededBy: "static quantization" }),
    new UsageError("Missing --calibration: static quantization needs a dataset (mnist or a file)"),
  );
  await assert.rejects(
    readCalibration("mnist", { ...options, neededBy: undefined }),
    new UsageError("Option '--calibration' is only used by --method static"),
  );
  assert.equal(await readCalibration(undefined, { ...options, neededBy: undefined }), undefined);
});

Deno.test("readCalibration() names a calibration file it cannot read", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.npz`, "bad");
    const options = { neededBy: "--method wanda", usedBy: "--method wanda" };
    await assert.rejects(
      readCalibration(`${dir}/bad.npz`, options),
      /^Error: Cannot read calibration dataset '.*bad\.npz'/,
    );
    await assert.rejects(
      readCalibration(`${dir}/none.npz`, options),
      /Cannot read calibration dataset '.*none\.npz'/,
    );
  });
});
