// The template cases rendered by Go (main.go) into golden.json and by tsd's engine in
// test/unit/template.test.ts. Data is JSON; Go reads integers as int and lists/maps of strings
// as []string/map[string]string, the types Docker's structs have.
export interface Case {
  tpl: string;
  data: unknown;
  missingkey?: "default" | "zero" | "error";
}

const container = {
  Id: "4f1d2c9a8b7e",
  Name: "/web",
  State: { Status: "running", Running: true, Pid: 4242, ExitCode: 0, OOMKilled: false, StartedAt: "2024-01-02T03:04:05Z" },
  Config: {
    Env: ["PATH=/usr/bin", "A=1"],
    Cmd: ["sh", "-c", "echo hi"],
    Labels: { app: "web", "com.example.tier": "front" },
    ExposedPorts: { "80/tcp": {}, "443/tcp": {} },
    Image: "busybox:latest",
    Tty: false,
  },
  NetworkSettings: {
    Networks: { bridge: { IPAddress: "10.89.0.2", Gateway: "10.89.0.1", Aliases: null }, app: { IPAddress: "10.91.0.10", Gateway: "10.91.0.1", Aliases: ["db", "database"] } },
    Ports: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }], "53/udp": null },
  },
  Mounts: [{ Type: "volume", Name: "data", Source: "/var/lib/tsd/volumes/data/_data", Destination: "/data", RW: true }],
  Args: ["-c", "echo hi"],
  RestartCount: 2,
  SizeRw: 1.5,
  Nil: null,
  Empty: "",
  Zero: 0,
  EmptyList: [],
  EmptyMap: {},
  Mixed: [1, "two", true, null, 2.5, ["x", "y"], { k: "v" }],
  Nums: [3, 1, 2],
  Words: ["alpha", "beta", "gamma"],
  Big: 123456789,
  Float: 0.25,
  Large: 1234567.5,
  Tiny: 0.00001,
  Neg: -7,
  Text: "Hello, World",
  Html: "<a href='x'>&</a>",
  Unicode: "héllo wörld ✓",
};

const simple = { a: 1, b: "two", c: true, d: null, e: [1, 2, 3], f: { x: "y" }, g: 2.5, s: "str", n: 0, t: false, list: ["a", "b"], m: { b: 2, a: 1 } };

const base: string[] = [
  // plain fields and printing
  "{{.Id}}", "{{.Name}}", "{{.State.Pid}}", "{{.State.Status}} {{.State.Running}}", "{{.State}}", "{{.Config.Env}}", "{{.Config.Labels}}",
  "{{.Config.ExposedPorts}}", "{{.NetworkSettings.Ports}}", "{{.Mounts}}", "{{.Mixed}}", "{{.Nums}}", "{{.SizeRw}}", "{{.Big}}", "{{.Float}}",
  "{{.Large}}", "{{.Tiny}}", "{{.Neg}}", "{{.Nil}}", "{{.Empty}}", "{{.EmptyList}}", "{{.EmptyMap}}", "{{.}}", "{{.Unicode}}", "{{.Html}}",
  // missing keys
  "{{.Nope}}", "{{.Nope.Deeper}}", "{{.State.Nope}}", "{{.Config.Labels.nope}}", "{{.Config.Labels.app}}", "{{.Nil.x}}", "{{.Id.x}}",
  "{{.Nums.x}}", "{{.State.Pid.x}}", "{{(.Nil).x}}", "{{print .Nope}}", "{{print .Nil}}", "{{.Mixed.x}}",
  // json
  "{{json .}}", "{{json .State}}", "{{json .Config.Env}}", "{{json .Nil}}", "{{json .Nope}}", "{{json .Html}}", "{{json .Config.Labels}}",
  "{{json .SizeRw}}", "{{json .EmptyList}}", "{{json .EmptyMap}}", "{{json .Mixed}}", "{{json .Unicode}}", "{{json \"a\\u2028b\"}}", "{{json 1.5}}", "{{json 3}}",
  "{{json true}}", "{{json nil}}", "{{json .Mounts}}",
  // docker functions
  "{{join .Config.Env \",\"}}", "{{join .Args \" \"}}", "{{join .Mixed \",\"}}", "{{join .Nope \",\"}}", "{{join .EmptyList \",\"}}", "{{split .Config.Image \":\"}}",
  "{{index (split .Config.Image \":\") 0}}", "{{split \"a,b,,c\" \",\"}}", "{{split \"abc\" \"\"}}", "{{split \"\" \",\"}}", "{{len (split \"a:b:c\" \":\")}}",
  "{{lower .Text}}", "{{upper .Text}}", "{{title \"hello wide-world foo_bar x.y\"}}", "{{title .Unicode}}", "{{pad .Name 2 3}}|", "{{pad \"\" 2 3}}|",
  "{{pad .Name -1 0}}", "{{truncate .Id 4}}", "{{truncate .Id 100}}", "{{truncate .Id 0}}|", "{{truncate .Id -1}}", "{{upper 1}}", "{{lower .Nope}}",
  "{{upper .Nil}}", "{{.Text | upper}}", "{{.Text | lower | title}}", "{{.Config.Image | split \":\"}}", "{{\":\" | split .Config.Image}}",
  "{{truncate .Id 4 | upper}}", "{{pad .Name 1.0 1}}", "{{pad .Name 1.5 1}}", "{{pad .Name \"1\" 1}}", "{{join .Config.Env}}", "{{json}}", "{{json . .}}",
  // variables
  "{{$x := .State.Pid}}{{$x}}", "{{$x := 1}}{{$x = 2}}{{$x}}", "{{$}}", "{{$.Name}}", "{{with .State}}{{$.Name}} {{.Pid}}{{end}}", "{{$y}}",
  "{{$x := .Config}}{{$x.Image}}", "{{$x := .Nope}}{{$x}}", "{{$x := .Nil}}{{$x.y}}", "{{$x := .State}}{{$x.Nope}}", "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}",
  "{{if true}}{{$z := 1}}{{end}}{{$z}}", "{{$x := \"a\"}}{{$x | upper}}", "{{$x, $y := 1}}", "{{$x := 1 2}}", "{{$x 1}}", "{{$.Nope}}",
  // if / else
  "{{if .State.Running}}up{{else}}down{{end}}", "{{if .Nope}}y{{else}}n{{end}}", "{{if .Nil}}y{{else}}n{{end}}", "{{if .Zero}}y{{else}}n{{end}}",
  "{{if .Empty}}y{{else}}n{{end}}", "{{if .EmptyList}}y{{else}}n{{end}}", "{{if .EmptyMap}}y{{else}}n{{end}}", "{{if .Float}}y{{else}}n{{end}}",
  "{{if eq .State.Status \"running\"}}R{{else if eq .State.Status \"exited\"}}E{{else}}?{{end}}", "{{if false}}a{{else if false}}b{{else if true}}c{{end}}",
  "{{if}}x{{end}}", "{{if .State.Running}}x", "{{else}}", "{{end}}", "{{if true}}a{{else}}b{{else}}c{{end}}", "{{if 0}}a{{end}}", "{{if 1.5}}a{{end}}",
  "{{if \"\"}}a{{else}}b{{end}}", "{{if .State}}a{{end}}", "{{if not .State.Running}}n{{else}}y{{end}}", "{{if and .State.Running .Id}}both{{end}}",
  "{{if or .Empty .Zero}}x{{else}}none{{end}}", "{{if (eq .State.Pid 4242)}}pid{{end}}",
  // with
  "{{with .State}}{{.Status}}{{end}}", "{{with .Nope}}x{{else}}none{{end}}", "{{with .Empty}}x{{else}}empty{{end}}", "{{with $x := .State}}{{$x.Pid}}{{end}}",
  "{{with .Nope}}a{{else with .State}}{{.Pid}}{{end}}", "{{with .Config.Labels}}{{.app}}{{end}}", "{{with .Nil}}a{{else}}b{{end}}",
  // range
  "{{range .Config.Env}}[{{.}}]{{end}}", "{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "{{range $e := .Config.Env}}{{$e}},{{end}}",
  "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", "{{range .Config.Labels}}{{.}} {{end}}", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}:{{$v.IPAddress}} {{end}}",
  "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "{{range .EmptyList}}x{{else}}empty{{end}}", "{{range .Nope}}x{{else}}none{{end}}",
  "{{range .Nil}}x{{else}}nil{{end}}", "{{range .Id}}x{{end}}", "{{range .State.Pid}}x{{end}}", "{{range 3}}{{.}}{{end}}", "{{range $i := 3}}{{$i}}{{end}}",
  "{{range $i, $j := 3}}{{$i}}{{end}}", "{{range 0}}x{{else}}zero{{end}}", "{{range .Nums}}{{if eq . 1}}{{break}}{{end}}{{.}}{{end}}",
  "{{range .Nums}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", "{{break}}", "{{range .Mixed}}{{.}}|{{end}}", "{{range $i, $m := .Mounts}}{{$i}} {{$m.Destination}}{{end}}",
  "{{range .NetworkSettings.Ports}}{{.}}{{end}}", "{{range $p, $c := .NetworkSettings.Ports}}{{$p}}->{{(index $c 0).HostPort}} {{end}}",
  "{{range $p, $c := .NetworkSettings.Ports}}{{$p}}{{if $c}}->{{(index $c 0).HostPort}}{{end}} {{end}}", "{{range .Words}}{{.}}{{end}}{{.Name}}",
  "{{range $x := .Words}}{{end}}{{$x}}", "{{range .Mixed}}{{.x}}{{end}}", "{{range $a, $b, $c := .Nums}}{{end}}", "{{range $i, 1}}{{end}}",
  // comparisons
  "{{eq 1 1}}", "{{eq 1 2}}", "{{eq 1 2 1}}", "{{eq \"a\" \"a\"}}", "{{eq 1 1.0}}", "{{eq 1.5 1.5}}", "{{eq 1 \"1\"}}", "{{eq .State.Pid 4242}}",
  "{{eq .Nope 1}}", "{{eq .Nil 1}}", "{{eq .Nope .Nil}}", "{{eq .Nums .Nums}}", "{{eq true true}}", "{{eq .Config.Env .Args}}", "{{eq}}", "{{eq 1}}",
  "{{ne 1 2}}", "{{ne \"a\" \"a\"}}", "{{lt 1 2}}", "{{lt 2 1}}", "{{lt \"a\" \"b\"}}", "{{lt 1.5 2.5}}", "{{lt 1 2.5}}", "{{lt true false}}",
  "{{le 2 2}}", "{{gt 3 2}}", "{{ge 2 3}}", "{{gt \"b\" \"a\"}}", "{{lt .Nums 1}}", "{{lt .Nope 1}}", "{{lt .Nil 1}}", "{{gt .RestartCount 1}}",
  "{{ge .SizeRw 1.5}}", "{{lt -1 0}}", "{{eq 'a' 97}}", "{{eq .Neg -7}}",
  // and / or / not
  "{{and 1 2}}", "{{and 0 2}}", "{{or 0 \"\" 3}}", "{{or 0 \"\"}}", "{{and}}", "{{not 0}}", "{{not 1}}", "{{not .Nope}}", "{{not .Nil}}", "{{not \"\"}}",
  "{{not .EmptyList}}", "{{and .Id .Name}}", "{{or .Nope .Name}}", "{{and .Nope .Name}}", "{{or .Nil .Empty}}", "{{not}}", "{{not 1 2}}",
  "{{1 | and 1}}", "{{0 | or 2}}", "{{and .State.Running (not .State.OOMKilled)}}",
  // index / len / slice
  "{{index .Config.Env 0}}", "{{index .Config.Env 5}}", "{{index .Config.Env 2}}", "{{index .Config.Env -1}}", "{{index .Config.Labels \"app\"}}",
  "{{index .Config.Labels \"nope\"}}|", "{{index .NetworkSettings.Networks \"nope\"}}", "{{index .NetworkSettings.Networks \"bridge\" \"IPAddress\"}}",
  "{{index .Mixed 5 1}}", "{{index .Id 0}}", "{{index .Nope 0}}", "{{index .Nil 0}}", "{{index .State.Pid 0}}", "{{index .Config.Env \"a\"}}",
  "{{index .Config.Labels 1}}", "{{index .Config.Env}}", "{{index .Mixed 6 \"k\"}}", "{{index . \"Name\"}}", "{{index .Config.Env 1.0}}",
  "{{len .Config.Env}}", "{{len .Config.Labels}}", "{{len .Id}}", "{{len .Unicode}}", "{{len .State.Pid}}", "{{len .Nope}}", "{{len .Nil}}", "{{len .EmptyList}}",
  "{{slice .Id 1 3}}", "{{slice .Id 2}}", "{{slice .Id}}", "{{slice .Config.Env 1}}", "{{slice .Words 0 2}}", "{{slice .Words 2 1}}", "{{slice .Words 0 9}}",
  "{{slice .Id 1 2 3}}", "{{slice .Words 0 1 2}}", "{{slice .State.Pid 1}}", "{{slice .Nope 1}}", "{{slice .Words 1 2 3 4}}", "{{slice .Words 2 1 3}}",
  // print family
  "{{print 1 2}}", "{{print \"a\" \"b\"}}", "{{print 1 \"a\" 2}}", "{{print .Nums .Words}}", "{{print nil}}", "{{print}}", "{{println 1 2}}", "{{println}}",
  "{{print .Config.Labels}}", "{{print 1.5 2}}", "{{print true false}}", "{{print .Mixed}}", "{{print .State.Pid .Name}}",
  "{{printf \"%s\" .Name}}", "{{printf \"%d\" .State.Pid}}", "{{printf \"%v\" .Config.Env}}", "{{printf \"%q\" .Name}}", "{{printf \"%q\" .Config.Env}}",
  "{{printf \"%t\" .State.Running}}", "{{printf \"%x\" .State.Pid}}", "{{printf \"%X\" 255}}", "{{printf \"%o\" 8}}", "{{printf \"%b\" 5}}", "{{printf \"%x\" \"hi\"}}",
  "{{printf \"%5s|\" \"ab\"}}", "{{printf \"%-5s|\" \"ab\"}}", "{{printf \"%-10s|%5d|\" .Name .State.Pid}}", "{{printf \"%05d\" 42}}", "{{printf \"%+d\" 42}}",
  "{{printf \"%.2f\" 3.14159}}", "{{printf \"%8.3f|\" 3.14159}}", "{{printf \"%e\" 1234.5678}}", "{{printf \"%g\" 0.000012}}", "{{printf \"%v\" 1e6}}",
  "{{printf \"%v\" 100000.0}}", "{{printf \"%v\" 1e21}}", "{{printf \"%v\" 1e-5}}", "{{printf \"%v\" 0.0001}}", "{{printf \"%f\" 1.5}}", "{{printf \"%.0f\" 2.5}}",
  "{{printf \"%d\" .Name}}", "{{printf \"%s\" .State.Pid}}", "{{printf \"%d\" 1.5}}", "{{printf \"%s\" nil}}", "{{printf \"%v\" nil}}", "{{printf \"%d %d\" 1}}",
  "{{printf \"%d\" 1 2}}", "{{printf \"%d\" 1 \"a\"}}", "{{printf \"100%%\"}}", "{{printf \"%\"}}", "{{printf \"%z\" 1}}", "{{printf \"%c\" 65}}", "{{printf \"%q\" 65}}",
  "{{printf \"%U\" 65}}", "{{printf \"%T\" .Config.Env}}", "{{printf \"%T %T %T %T\" 1 1.5 \"s\" true}}", "{{printf \"%T\" .Config.Labels}}", "{{printf \"%T\" .Mixed}}",
  "{{printf \"%v\" .Config.Labels}}", "{{printf \"%s\" .Config.Labels}}", "{{printf \"%d\" .Nums}}", "{{printf \"%5v|\" .Nums}}", "{{printf \"%.3s\" \"abcdef\"}}",
  "{{printf \"%s\" .Mixed}}", "{{printf \"%v\" .Nope}}", "{{printf \"%s\" .Nope}}", "{{printf .Name}}", "{{printf 1}}", "{{printf}}", "{{printf \"%v %v\" .Float .Large}}",
  "{{printf \"%x\" -255}}", "{{printf \"%#x\" 255}}", "{{printf \"%#o\" 8}}", "{{printf \"% d\" 5}}", "{{printf \"%6.2f|\" -1.5}}", "{{printf \"%-8v|\" true}}",
  "{{printf \"%q\" \"tab\\there\"}}", "{{printf \"%q\" .Unicode}}", "{{printf \"%+q\" .Unicode}}", "{{printf \"%v\" .Tiny}}", "{{printf \"%v\" .Big}}",
  "{{printf \"%s=%s\" \"a\" \"b\" | upper}}", "{{.Name | printf \"%s!\"}}", "{{.State.Pid | printf \"%d-%s\" }}",
  // html/js/urlquery
  "{{html .Html}}", "{{js .Html}}", "{{urlquery \"a b&c=d/é\"}}", "{{html 1 2}}", "{{js \"line\\nnext\"}}",
  // literals
  "{{\"\\n\"}}", "{{\"a\\tb\"}}", "{{`raw\\n`}}", "{{'a'}}", "{{'\\n'}}", "{{'\\''}}", "{{1}}", "{{-1}}", "{{+1}}", "{{1.5}}", "{{1.0}}", "{{1e3}}", "{{0x1F}}",
  "{{0o17}}", "{{017}}", "{{0b101}}", "{{1_000}}", "{{.5}}", "{{1e100}}", "{{true}}", "{{false}}", "{{nil}}", "{{\"\\u00e9\\x41\\101\"}}", "{{\"\\q\"}}",
  "{{\"unterminated}}", "{{`unterminated}}", "{{'ab'}}", "{{1x}}", "{{1.2.3}}", "{{9007199254740991}}", "{{9223372036854775808}}", "{{-9223372036854775808}}",
  "{{0x}}", "{{1__0}}", "{{_1}}", "{{'\\\"'}}", "{{\"a\" | printf \"%s%s\" \"b\"}}", "{{1 | printf \"%d\"}}",
  // trim markers and comments
  "a  {{- .Name -}}  b", "a {{- .Name}} b", "a {{.Name -}} b", "a\n\t{{- .Name -}}\n\tb", "{{- .Name}}", "{{.Name -}}", "a {{-.Name}}", "a {{.Name-}}",
  "{{/* comment */}}x", "a {{- /* c */ -}} b", "{{/* unclosed }}", "{{/* c */ .Name}}", "{{ /* c */ }}", "x{{/*\nmulti\nline*/}}y", "{{- /* c */}}",
  "{{- 3}}", "{{3 -}}", "{{-3}}", "{{ -3 }}", "a {{- -3}}", "{{.Name}}\n{{- .Id}}",
  // pipelines and parens
  "{{.Name | len}}", "{{(.Name)}}", "{{(.State).Pid}}", "{{(index .Mounts 0).Destination}}", "{{(index .Mounts 0).Nope}}", "{{(print .Name).x}}",
  "{{.Name | print \"x\" | upper}}", "{{1 | 2}}", "{{.Name | .Id}}", "{{.Name | $}}", "{{\"x\" | \"y\"}}", "{{| .Name}}", "{{.Name |}}", "{{(1}}", "{{1)}}",
  "{{()}}", "{{(.Name | upper) | lower}}", "{{nil.x}}", "{{\"s\".x}}", "{{(nil).x}}", "{{.State.Pid 1}}", "{{.Name.Len}}", "{{. 1}}", "{{1 2}}",
  "{{\"a\" \"b\"}}", "{{nil}}", "{{.}}{{.Nums}}",
  // parse errors
  "{{", "{{.Name", "}}", "{{.Name}", "{{nope}}", "{{.Name | nope}}", "{{!}}", "{{.Name!}}", "{{$}}{{$x}}", "{{if .Name}}", "{{range .Nums}}", "{{with .Name}}",
  "{{end}}{{if 1}}", "{{else if 1}}", "{{if 1}}{{else}}{{else if 2}}{{end}}", "{{.Name := 1}}", "{{$x = 1}}", "{{$x := }}",
  "{{:=}}", "{{=}}", "{{.Name,}}", "{{range $i, $v, $w := .Nums}}{{end}}", "{{with $x, $y := 1}}{{end}}", "line1\n{{.Name\nline3", "{{.Name}}\n\n{{nope}}",
  "{{\n.Nope.x\n}}", "x\n{{.Nope.x.y}}", "{{.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p}}", "{{if .Nope.x.y}}a{{end}}", "{{ .Name }}", "{{.Name }}{{ .Id}}",
];

const simpleTpls: string[] = [
  "{{.}}", "{{.a}}", "{{.b}}", "{{.c}}", "{{.d}}", "{{.e}}", "{{.f}}", "{{.g}}", "{{.m}}", "{{json .}}", "{{json .m}}", "{{range .e}}{{.}}{{end}}",
  "{{range $k, $v := .m}}{{$k}}{{$v}}{{end}}", "{{index .e 1}}", "{{len .}}", "{{.z}}", "{{print .}}", "{{printf \"%v\" .}}", "{{printf \"%+v\" .f}}",
  "{{if .t}}t{{else}}f{{end}}", "{{eq .a 1}}", "{{eq .g 2.5}}", "{{eq .a .g}}", "{{lt .a .g}}", "{{.list}}", "{{join .list \"-\"}}", "{{.e | len}}",
];

const scalars: [string, unknown][] = [
  ["{{.}}", "text"], ["{{.}}", 42], ["{{.}}", 2.5], ["{{.}}", true], ["{{.}}", null], ["{{.}}", ["a", "b"]], ["{{.}}", []], ["{{.}}", {}],
  ["{{.x}}", "text"], ["{{.x}}", 42], ["{{.x}}", null], ["{{.x}}", ["a"]], ["{{len .}}", "héllo"], ["{{range .}}{{.}},{{end}}", [1, 2]],
  ["{{range .}}{{.}},{{end}}", ["a", "b"]], ["{{index . 1}}", ["a", "b"]], ["{{json .}}", { b: 1, a: [true, null] }], ["{{.a.b}}", { a: { b: { c: 1 } } }],
  ["{{.a.b.c}}", { a: { b: { c: 1 } } }], ["{{.a.b.c}}", { a: { b: null } }], ["{{.a.b.c}}", { a: {} }], ["{{.a.x}}", { a: "s" }], ["{{.a.x}}", { a: ["s"] }],
  ["{{.a.x}}", { a: [1] }], ["{{.a.x}}", { a: 1, b: "s" }], ["{{.a.x}}", { a: 1.5, b: "s" }], ["{{.a.x}}", { a: true, b: "s" }],
  ["{{range .}}{{.x}}{{end}}", ["s"]], ["{{range .}}{{.x}}{{end}}", [1]], ["{{range .}}{{.x}}{{end}}", [{ x: 1 }, { y: 2 }]],
  ["{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", { b: "2", a: "1", c: "3" }], ["{{range .}}{{.}}{{end}}", { b: 2, a: 1 }], ["{{printf \"%v\" .}}", { z: [1, { y: null }], a: "s" }],
];

export function allCases(): Case[] {
  const out: Case[] = [];
  for (const tpl of base) out.push({ tpl, data: container });
  for (const tpl of simpleTpls) out.push({ tpl, data: simple });
  for (const [tpl, data] of scalars) out.push({ tpl, data });
  const strict = ["{{.Nope}}", "{{.State.Nope}}", "{{.Config.Labels.nope}}", "{{.Nope.Deeper}}", "{{.Nil.x}}", "{{with .State}}{{.Nope}}{{end}}", "{{range .Mounts}}{{.Nope}}{{end}}", "{{index .Config.Labels \"nope\"}}|", "{{.State.Pid}}", "{{$x := .Nope}}{{$x}}"];
  for (const tpl of strict) out.push({ tpl, data: container, missingkey: "error" });
  for (const tpl of ["{{.Nope}}", "{{.Config.Labels.nope}}|", "{{.State.Nope}}", "{{printf \"%v\" .Nope}}"]) out.push({ tpl, data: container, missingkey: "zero" });
  return out;
}
