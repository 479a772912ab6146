// Renders text/template cases with the Docker CLI's template functions and writes the golden
// outputs (text or error) that test/unit/template.test.ts compares tsd's engine with.
// Usage: go run ./test/template-go CASES.json GOLDEN.json   (no modules outside the standard library)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

// The Docker CLI's functions (docker/cli templates/templates.go), same signatures.
var dockerFuncs = template.FuncMap{
	"json": func(v interface{}) string {
		buf := &bytes.Buffer{}
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return strings.TrimSpace(buf.String())
	},
	"split":    strings.Split,
	"join":     strings.Join,
	"title":    strings.Title, //nolint:staticcheck // Docker uses it
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      padWithSpace,
	"truncate": truncateWithLength,
}

func padWithSpace(source string, prefix, suffix int) string {
	if source == "" {
		return source
	}
	return strings.Repeat(" ", prefix) + source + strings.Repeat(" ", suffix)
}

func truncateWithLength(source string, length int) string {
	if len(source) < length {
		return source
	}
	return source[:length]
}

type testCase struct {
	Tpl        string          `json:"tpl"`
	Data       json.RawMessage `json:"data"`
	MissingKey string          `json:"missingkey,omitempty"`
}

// One golden result per case, in the cases' order (the data stays in cases.ts).
type golden struct {
	Tpl        string  `json:"tpl"`
	MissingKey string  `json:"missingkey,omitempty"`
	Out        *string `json:"out,omitempty"`
	Err        *string `json:"err,omitempty"`
}

// normalize gives JSON data the types Docker's typed structs have: integers are int, lists and
// maps of strings are []string and map[string]string.
func normalize(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []interface{}:
		allStr := true
		for _, e := range x {
			if _, ok := e.(string); !ok {
				allStr = false
			}
		}
		if allStr {
			out := make([]string, len(x))
			for i, e := range x {
				out[i] = e.(string)
			}
			return out
		}
		out := make([]interface{}, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]interface{}:
		allStr := true
		for _, e := range x {
			if _, ok := e.(string); !ok {
				allStr = false
			}
		}
		if allStr {
			out := make(map[string]string, len(x))
			for k, e := range x {
				out[k] = e.(string)
			}
			return out
		}
		out := make(map[string]interface{}, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

func render(c testCase) (string, error) {
	var raw interface{}
	dec := json.NewDecoder(bytes.NewReader(c.Data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return "", fmt.Errorf("bad case data: %v", err)
	}
	tmpl, err := template.New("").Funcs(dockerFuncs).Parse(c.Tpl)
	if err != nil {
		return "", err
	}
	if c.MissingKey != "" {
		tmpl = tmpl.Option("missingkey=" + c.MissingKey)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, normalize(raw)); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: template-go CASES.json GOLDEN.json")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var cases []testCase
	if err := json.Unmarshal(in, &cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := make([]golden, 0, len(cases))
	for _, c := range cases {
		g := golden{Tpl: c.Tpl, MissingKey: c.MissingKey}
		s, err := render(c)
		if err != nil {
			e := err.Error()
			g.Err = &e
		} else {
			g.Out = &s
		}
		out = append(out, g)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteString("[\n")
	for i, g := range out {
		if err := enc.Encode(g); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		buf.Truncate(buf.Len() - 1) // one case per line
		if i < len(out)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	if err := os.WriteFile(os.Args[2], buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
