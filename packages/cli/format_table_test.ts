import assert from "node:assert/strict";
import { formatTable, printable } from "./format_table.ts";

Deno.test("formatTable() aligns columns left and right under an underlined header", () => {
  const text = formatTable([["Conv", "12"], ["ConstantOfShape", "4"]], {
    header: ["op", "count"],
    align: ["left", "right"],
    indent: "  ",
  });
  assert.equal(
    text,
    [
      "  op               count",
      "  ---------------  -----",
      "  Conv                12",
      "  ConstantOfShape      4",
      "",
    ].join("\n"),
  );
});

Deno.test("formatTable() pads short rows and never leaves trailing spaces", () => {
  const text = formatTable([["a", "b", "c"], ["long"]]);
  assert.equal(text, "a     b  c\nlong\n");
  assert.ok(text.split("\n").every((line) => line === line.trimEnd()));
});

Deno.test("formatTable() escapes control characters so a cell stays on one line", () => {
  const text = formatTable([["note", "two\nlines\u001b[31m"]]);
  assert.equal(text, "note  two\\nlines\\u001b[31m\n");
  assert.equal(text.split("\n").length, 2);
});

Deno.test("formatTable() counts code points, not UTF-16 units, for width", () => {
  const text = formatTable([["😀", "x"], ["ab", "y"]]);
  assert.equal(text, "😀   x\nab  y\n");
});

Deno.test("formatTable() returns empty text for no rows and no header", () => {
  assert.equal(formatTable([]), "");
});

Deno.test("printable() escapes newlines, tabs and other control characters", () => {
  assert.equal(printable("a\tb\r\n\u0007"), "a\\tb\\r\\n\\u0007");
  assert.equal(printable("plain"), "plain");
});
