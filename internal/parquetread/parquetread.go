// Package parquetread reads Parquet files back with hyparquet, a Parquet
// reader written in JavaScript by others (installed from npm by
// scripts/hyparquet.sh), for tests: what falcocw writes must open in a
// reader it did not write. Each file gives its rows as JSON objects (64-bit
// integers as numbers, maps as objects, lists as arrays), its schema
// elements and its columns' compression codecs.
package parquetread

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// File is what hyparquet read of one file.
type File struct {
	Rows   []map[string]any `json:"rows"`
	Schema []Element        `json:"schema"`
	Codecs []string         `json:"codecs"`
	// NumRows is the row count of the file's metadata.
	NumRows int `json:"num_rows"`
}

// Element is one schema element, as the file's metadata has it.
type Element struct {
	Name          string `json:"name"`
	Repetition    string `json:"repetition_type"`
	ConvertedType string `json:"converted_type"`
	Children      int    `json:"num_children"`
}

const script = `import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
const out = []
for (const path of process.argv.slice(2)) {
  const file = await asyncBufferFromFile(path)
  const md = await parquetMetadataAsync(file)
  const rows = await parquetReadObjects({ file })
  const codecs = [...new Set(md.row_groups.flatMap(g => g.columns.map(c => c.meta_data.codec)))]
  out.push({ rows, num_rows: Number(md.num_rows), codecs,
    schema: md.schema.map(e => ({ name: e.name, repetition_type: e.repetition_type || '', converted_type: e.converted_type || '', num_children: e.num_children || 0 })) })
}
process.stdout.write(JSON.stringify(out, (k, v) => typeof v === 'bigint' ? Number(v) : v))
`

// Read reads each body with hyparquet. It installs hyparquet once
// (scripts/hyparquet.sh, from the npm registry); without node it skips the
// test with a NOTE.
func Read(t testing.TB, bodies ...[]byte) []File {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("NOTE: no node: the Parquet objects are not read back with hyparquet (install nodejs and npm)")
	}
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "hyparquet.sh")).Output()
	if err != nil {
		t.Fatalf("installing hyparquet (scripts/hyparquet.sh): %v", err)
	}
	modules := strings.TrimSpace(string(out))
	js := filepath.Join(filepath.Dir(modules), "read.mjs")
	if err := os.WriteFile(js, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{js}
	for i, b := range bodies {
		p := filepath.Join(dir, fmt.Sprintf("%d.parquet", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	cmd := exec.Command("node", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("hyparquet could not read the objects: %v\n%s", err, stderr.String())
	}
	var files []File
	if err := json.Unmarshal(res, &files); err != nil {
		t.Fatalf("hyparquet's output: %v", err)
	}
	return files
}

// RepeatedOutsideList names the schema's REPEATED elements that are not
// the repeated group of a LIST or a MAP: what Athena refuses ("REPEATED
// not supported outside LIST").
func RepeatedOutsideList(schema []Element) []string {
	var bad []string
	// Walk the flattened tree: each element's children follow it.
	var walk func(i int, parentType string) int
	walk = func(i int, parentType string) int {
		e := schema[i]
		if e.Repetition == "REPEATED" && parentType != "LIST" && parentType != "MAP" && parentType != "MAP_KEY_VALUE" {
			bad = append(bad, e.Name)
		}
		next := i + 1
		for c := 0; c < e.Children; c++ {
			next = walk(next, e.ConvertedType)
		}
		return next
	}
	if len(schema) > 0 {
		walk(0, "")
	}
	return bad
}

// Compact drops what a reader gives for absent values (null, an empty
// list) from a row, as a record's JSON omits them, so that rows compare
// with the records they were written from.
func Compact(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case []any:
			if len(x) == 0 {
				delete(m, k)
			}
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					Compact(em)
				}
			}
		case map[string]any:
			Compact(x)
		}
	}
}
