// The Dockerfile parser, variable substitution, ARG scoping and the metadata instructions,
// against Docker's documented behaviour (docs.docker.com/engine/reference/builder) and moby's
// parser and shell lexer tests.
import { describe, expect, test } from "bun:test";
import { DockerfileError, parseDockerfile } from "../../src/image/build/dockerfile";
import { cleanPath, ignored, parseDockerignore, patternRegExp } from "../../src/image/build/dockerignore";
import { processHeredoc, processWord, processWords, rawWords } from "../../src/image/build/shell-words";
import { planStages, stageNamed } from "../../src/image/build/stages";
import { applyMetadata, DEFAULT_SHELL, goDuration, joinPath, runArgv, runCreatedBy, runEnv, type StageState } from "../../src/image/build/instructions";

const env = new Map([
  ["A", "a"],
  ["EMPTY", ""],
  ["SP", "x y"],
]);

describe("variable substitution (moby shell lexer)", () => {
  const cases: [string, string][] = [
    ["$A", "a"],
    ["${A}", "a"],
    ["pre${A}post", "prepost".replace("pre", "prea").replace("apost", "apost")],
    ["$A$A", "aa"],
    ["${UNSET}", ""],
    ["$UNSET", ""],
    ["${UNSET:-def}", "def"],
    ["${EMPTY:-def}", "def"],
    ["${A:-def}", "a"],
    ["${A:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${UNSET:+alt}", ""],
    ["${UNSET:-${A}b}", "ab"],
    ["'$A'", "$A"],
    ['"$A"', "a"],
    ['"a b"', "a b"],
    ["\\$A", "$A"],
    ['"\\$A"', "$A"],
    ['"\\x"', "\\x"],
    ['"\\""', '"'],
    ["a\\ b", "a b"],
    ["$", "$"],
    ["$1x", "x"],
    ["a'b c'd", "ab cd"],
    ["${A:-'q'}", "a"],
    ["${UNSET:-'q r'}", "q r"],
  ];
  for (const [input, want] of cases) test(`${input} → ${want}`, () => expect(processWord(input, env)).toBe(want));

  test("errors as moby's", () => {
    expect(() => processWord("${A", env)).toThrow("missing '}'");
    expect(() => processWord("${A-x}", env)).toThrow("missing ':' in substitution");
    expect(() => processWord("${A:%x}", env)).toThrow("unsupported modifier (%) in substitution");
    expect(() => processWord("${UNSET:?must be set}", env)).toThrow("UNSET: must be set");
    expect(() => processWord("'abc", env)).toThrow("single-quote");
    expect(() => processWord('"abc', env)).toThrow("double-quote");
    expect(processWord("${A:?x}", env)).toBe("a");
  });

  test("a heredoc's content: variables expanded, quotes kept", () => {
    expect(processHeredoc('echo "$A" \'${UNSET:-d}\' \\$A\n', env)).toBe('echo "a" \'d\' $A\n');
  });

  test("the backtick escape", () => {
    expect(processWord("a`$A", env, "`")).toBe("a$A");
    expect(processWord("c:\\dir", env, "`")).toBe("c:\\dir");
  });

  test("word splitting: unquoted expansions split, quoted ones do not", () => {
    expect(processWords("$SP z", env)).toEqual(["x", "y", "z"]);
    expect(processWords('"$SP" z', env)).toEqual(["x y", "z"]);
    expect(processWords("a\\ b  c", env)).toEqual(["a b", "c"]);
    expect(processWords("  ", env)).toEqual([]);
    expect(processWords("pre$SP", env)).toEqual(["prex", "y"]);
  });

  test("raw words keep quotes for later expansion", () => {
    expect(rawWords('A=1 B="x y" C=\'$D e\' E=f\\ g')).toEqual(["A=1", 'B="x y"', "C='$D e'", "E=f\\ g"]);
    expect(() => rawWords('A="x')).toThrow("unmatched");
  });
});

describe("parsing", () => {
  test("instructions, case, comments, blank lines and line numbers", () => {
    const df = parseDockerfile("# a comment\n\nfrom busybox\n  # indented comment\nRUN echo hi # not a comment\n\nCMD [\"sh\"]\n");
    expect(df.instructions.map((i) => [i.cmd, i.line, i.rest])).toEqual([
      ["FROM", 3, "busybox"],
      ["RUN", 5, "echo hi # not a comment"],
      ["CMD", 7, '["sh"]'],
    ]);
    expect(df.instructions[2]!.json).toEqual(["sh"]);
    expect(df.instructions[1]!.json).toBeUndefined();
  });

  test("line continuations: comments and empty lines inside are skipped, later lines keep their indentation", () => {
    const df = parseDockerfile("FROM x\nRUN echo a \\\n# inside\n\n   b \\\n  c\nRUN d\n");
    expect(df.instructions[1]!.rest).toBe("echo a    b   c");
    expect(df.instructions[1]!.line).toBe(2);
    expect(df.instructions[1]!.endLine).toBe(6);
    expect(df.instructions[2]!.line).toBe(7);
  });

  test("a continuation at the end of the file", () => {
    expect(parseDockerfile("FROM x\nRUN a \\").instructions[1]!.rest).toBe("a");
  });

  test("directives: escape and syntax at the top only", () => {
    const df = parseDockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n b\n# escape=\\\n");
    expect(df.escape).toBe("`");
    expect(df.syntax).toBe("docker/dockerfile:1");
    expect(df.instructions[1]!.rest).toBe("a  b");
    expect(parseDockerfile("FROM x\n# escape=`\nRUN a \\\n b").instructions[1]!.rest).toBe("a  b");
    expect(parseDockerfile("# comment\n# escape=`\nFROM x\n").escape).toBe("\\");
    expect(() => parseDockerfile("# escape=x\nFROM a")).toThrow("dockerfile parse error line 1: invalid escape token");
    expect(() => parseDockerfile("# escape=`\n# escape=`\nFROM a")).toThrow("line 2: only one escape parser directive");
  });

  test("flags, and an unknown flag or instruction is one error with the line", () => {
    const df = parseDockerfile("FROM --platform=linux/amd64 x AS b\nCOPY --from=b --chown=1:2 a b\n");
    expect(df.instructions[0]!.flags).toEqual([{ name: "platform", value: "linux/amd64" }]);
    expect(df.instructions[0]!.rest).toBe("x AS b");
    expect(df.instructions[1]!.flags.map((f) => f.name)).toEqual(["from", "chown"]);
    expect(() => parseDockerfile("FROM x\n\nCOPY --bogus=1 a b")).toThrow("dockerfile parse error line 3: unknown flag: --bogus");
    expect(() => parseDockerfile("FROM x\nFOO bar")).toThrow(new DockerfileError(2, "unknown instruction: FOO"));
    try {
      parseDockerfile("FROM x\nRUN a\n  \\\nbogus");
    } catch (e) {
      expect((e as DockerfileError).line).toBe(4);
      expect((e as DockerfileError).exitCode).toBe(1);
    }
  });

  test("heredocs", () => {
    const df = parseDockerfile("FROM x\nRUN <<EOF\necho $A\necho b\nEOF\nCOPY <<-'F1' <<G /dst/\n\t\tone\n\tF1\ntwo\nG\nCMD x\n");
    const run = df.instructions[1]!;
    expect(run.heredocs).toEqual([{ name: "EOF", content: "echo $A\necho b\n", expand: true }]);
    const copy = df.instructions[2]!;
    expect(copy.heredocs).toEqual([
      { name: "F1", content: "one\n", expand: false },
      { name: "G", content: "two\n", expand: true },
    ]);
    expect(df.instructions[3]!.cmd).toBe("CMD");
    expect(df.instructions[3]!.line).toBe(11);
    expect(() => parseDockerfile("FROM x\nRUN <<EOF\necho\n")).toThrow("line 2: unterminated heredoc");
  });

  test("JSON: a malformed array is the shell form, as Docker's", () => {
    const df = parseDockerfile('FROM x\nCMD ["a", "b"]\nCMD [a]\nCMD ["a", 1]\n');
    expect(df.instructions[1]!.json).toEqual(["a", "b"]);
    expect(df.instructions[2]!.json).toBeUndefined();
    expect(df.instructions[3]!.json).toBeUndefined();
  });
});

function state(over: Partial<StageState> = {}): StageState {
  return { config: { Env: ["PATH=/bin"] }, args: new Map(), shell: [...DEFAULT_SHELL], escape: "\\", buildArgs: new Map(), meta: new Map(), used: new Set(), ...over };
}

function apply(s: StageState, lines: string): string[] {
  const df = parseDockerfile(`FROM x\n${lines}`);
  return df.instructions.slice(1).map((i) => applyMetadata(s, i)!);
}

describe("stages and ARG scoping", () => {
  test("meta args expand FROM; --build-arg overrides; AS names", () => {
    const df = parseDockerfile("ARG V=1\nARG IMG\nFROM base:$V AS One\nFROM ${IMG:-scratch}\nFROM one\n");
    const plan = planStages(df, new Map([["V", "2"]]));
    expect(plan.stages.map((s) => [s.base, s.name])).toEqual([
      ["base:2", "one"],
      ["scratch", undefined],
      ["one", undefined],
    ]);
    expect(stageNamed(plan, "ONE", 2)?.index).toBe(0);
    expect(stageNamed(plan, "1", 2)?.index).toBe(1);
    expect(stageNamed(plan, "1", 1)).toBeUndefined();
  });

  test("errors with lines", () => {
    expect(() => planStages(parseDockerfile("RUN x\nFROM a"), new Map())).toThrow("line 1: RUN before the first FROM");
    expect(() => planStages(parseDockerfile("FROM a b"), new Map())).toThrow("line 1: FROM requires either one or three arguments");
    expect(() => planStages(parseDockerfile("FROM a AS x\nFROM b AS x"), new Map())).toThrow('line 2: duplicate name for build stage: "x"');
    expect(() => planStages(parseDockerfile("FROM a AS 1x"), new Map())).toThrow("invalid name for build stage");
    expect(() => planStages(parseDockerfile("# only\n"), new Map())).toThrow("no FROM instruction");
  });

  test("a meta arg reaches a stage only when declared again", () => {
    const plan = planStages(parseDockerfile("ARG V=meta\nFROM x\nARG V\nRUN echo $V\n"), new Map());
    const s = state({ meta: plan.meta });
    expect(s.args.has("V")).toBe(false);
    applyMetadata(s, plan.stages[0]!.instructions[0]!);
    expect(s.args.get("V")).toBe("meta");
  });

  test("ARG: build arg over default, ENV over ARG in expansion, RUN env and created_by", () => {
    const s = state({ buildArgs: new Map([["B", "cli"], ["HTTP_PROXY", "http://127.0.0.1:3128"]]) });
    apply(s, "ARG A=def B=bdef\nARG C\nENV B=env\nLABEL l=$A-$B-${C:-none}");
    expect(s.config.Labels).toEqual({ l: "def-env-none" });
    expect(s.used).toEqual(new Set(["B"]));
    expect(runEnv(s)).toEqual(["PATH=/bin", "B=env", "A=def", "HTTP_PROXY=http://127.0.0.1:3128"]);
    expect(runCreatedBy(s, ["/bin/sh", "-c", "x"])).toBe("|2 A=def B=cli /bin/sh -c x");
    expect(runCreatedBy(state(), ["echo", "hi"])).toBe("echo hi");
  });
});

describe("metadata instructions", () => {
  test("ENV: pairs, quotes, the legacy form, expansion against the env before the instruction", () => {
    const s = state();
    const by = apply(s, 'ENV A=1 B="two words" C=\'$A\'\nENV D $A and more\nENV A=2 E=$A');
    expect(s.config.Env).toEqual(["PATH=/bin", "A=2", "B=two words", "C=$A", "D=1 and more", "E=1"]);
    expect(by[0]).toBe("/bin/sh -c #(nop)  ENV A=1 B=two words C=$A");
    expect(() => apply(state(), "ENV A")).toThrow("line 2: ENV names A but gives no value");
    expect(() => apply(state(), "ENV A=1 B")).toThrow(`line 2: Syntax error - can't find = in "B"`);
  });

  test("CMD, ENTRYPOINT, SHELL", () => {
    const s = state({ config: { Cmd: ["sh"] } });
    const by = apply(s, 'ENTRYPOINT ["/e"]\nCMD echo $X\nSHELL ["/bin/bash", "-xc"]\nCMD run it');
    expect(s.config.Entrypoint).toEqual(["/e"]);
    expect(s.config.Cmd).toEqual(["/bin/bash", "-xc", "run it"]);
    expect(by[0]).toBe('/bin/sh -c #(nop)  ENTRYPOINT ["/e"]');
    expect(by[1]).toBe('/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo $X"]');
    // Docker commits SHELL with the new shell already in place.
    expect(by[2]).toBe("/bin/bash -xc #(nop)  SHELL [/bin/bash -xc]");
    expect(by[3]).toBe('/bin/bash -xc #(nop)  CMD ["/bin/bash" "-xc" "run it"]');
    const t = state({ config: { Cmd: ["sh"] } });
    apply(t, "ENTRYPOINT e");
    expect(t.config.Cmd).toBeNull();
    expect(() => apply(state(), "SHELL /bin/sh")).toThrow("SHELL requires the arguments to be in JSON form");
  });

  test("WORKDIR, USER, STOPSIGNAL, EXPOSE, VOLUME, LABEL, HEALTHCHECK, ONBUILD", () => {
    const s = state();
    const by = apply(
      s,
      [
        "ENV D=/srv",
        "WORKDIR $D",
        "WORKDIR a/../b",
        "USER 1000:1000",
        "STOPSIGNAL SIGQUIT",
        "EXPOSE 80 53/udp 8000-8001",
        'VOLUME ["/data", "/logs"]',
        "VOLUME /a /b",
        'LABEL "com.x"="y z" k=v',
        "HEALTHCHECK --interval=30s --retries=3 CMD wget -q -O- 127.0.0.1",
        "ONBUILD run echo x",
      ].join("\n"),
    );
    const c = s.config;
    expect(c.WorkingDir).toBe("/srv/b");
    expect(c.User).toBe("1000:1000");
    expect(c.StopSignal).toBe("SIGQUIT");
    expect(Object.keys(c.ExposedPorts!)).toEqual(["80/tcp", "53/udp", "8000/tcp", "8001/tcp"]);
    expect(Object.keys(c.Volumes!)).toEqual(["/data", "/logs", "/a", "/b"]);
    expect(c.Labels).toEqual({ "com.x": "y z", k: "v" });
    expect(c.Healthcheck).toEqual({ Test: ["CMD-SHELL", "wget -q -O- 127.0.0.1"], Interval: 30e9, Timeout: 0, StartPeriod: 0, Retries: 3 });
    expect((c as { OnBuild?: string[] }).OnBuild).toEqual(["RUN echo x"]);
    expect(by.slice(1)).toEqual([
      "/bin/sh -c #(nop) WORKDIR /srv",
      "/bin/sh -c #(nop) WORKDIR /srv/b",
      "/bin/sh -c #(nop)  USER 1000:1000",
      "/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT",
      "/bin/sh -c #(nop)  EXPOSE 80 53/udp 8000-8001",
      "/bin/sh -c #(nop)  VOLUME [/data /logs]",
      "/bin/sh -c #(nop)  VOLUME [/a /b]",
      "/bin/sh -c #(nop)  LABEL com.x=y z k=v",
      `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "wget -q -O- 127.0.0.1"] "30s" "0s" "0s" '\\x03'}`,
      "/bin/sh -c #(nop)  ONBUILD RUN echo x",
    ]);
  });

  test("bad arguments name the line", () => {
    expect(() => apply(state(), "\nEXPOSE http")).toThrow("line 3: invalid containerPort: http");
    expect(() => apply(state(), "STOPSIGNAL SIGFOO")).toThrow("line 2: invalid signal: SIGFOO");
    expect(() => apply(state(), "USER a b")).toThrow("line 2: USER requires exactly one argument");
    expect(() => apply(state(), "HEALTHCHECK --retries=0 CMD x")).toThrow("line 2: HEALTHCHECK --retries");
    expect(() => apply(state(), "ONBUILD FROM x")).toThrow("line 2: FROM isn't allowed as an ONBUILD trigger");
    expect(() => apply(state(), "LABEL x=${A")).toThrow("line 2: missing '}'");
  });

  test("RUN's argv: exec form, shell form, heredoc script", () => {
    const df = parseDockerfile('FROM x\nRUN ["echo", "a"]\nRUN echo $HOME\nRUN <<EOF\necho hi\nEOF\n');
    const s = state();
    expect(runArgv(s, df.instructions[1]!)).toEqual(["echo", "a"]);
    expect(runArgv(s, df.instructions[2]!)).toEqual(["/bin/sh", "-c", "echo $HOME"]);
    expect(runArgv(s, df.instructions[3]!)).toEqual(["/bin/sh", "-c", "echo hi\n"]);
  });

  test("helpers", () => {
    expect(joinPath("/a/b", "../c")).toBe("/a/c");
    expect(joinPath("/", "x/")).toBe("/x");
    expect(goDuration(30e9)).toBe("30s");
    expect(goDuration(90e9)).toBe("1m30s");
    expect(goDuration(5e8)).toBe("500ms");
    expect(goDuration(3600e9)).toBe("1h0m0s");
  });
});

describe(".dockerignore (Docker 20.10's PatternMatcher)", () => {
  const check = (rules: string, path: string) => ignored(parseDockerignore(rules), path);

  test("plain names, directories and everything under them", () => {
    expect(check("secret.txt", "secret.txt")).toBe(true);
    expect(check("secret.txt", "a/secret.txt")).toBe(false);
    expect(check("build", "build/x/y")).toBe(true);
    expect(check("/build/", "build/x")).toBe(true);
    expect(check("./a/../b", "b")).toBe(true);
  });

  test("* and ? stay within a component; ** crosses them", () => {
    expect(check("*.md", "README.md")).toBe(true);
    expect(check("*.md", "docs/x.md")).toBe(false);
    expect(check("*/*.md", "docs/x.md")).toBe(true);
    expect(check("**/*.md", "docs/a/x.md")).toBe(true);
    expect(check("**/*.md", "x.md")).toBe(true);
    expect(check("temp?", "temp1")).toBe(true);
    expect(check("temp?", "temp12")).toBe(false);
    expect(check("docs/**", "docs/a/b")).toBe(true);
    expect(check("[a-c].txt", "b.txt")).toBe(true);
    expect(check("[a-c].txt", "d.txt")).toBe(false);
  });

  test("! re-includes, the last match wins; comments and blanks skipped", () => {
    const rules = "# comment\n\n*.md\n!README*.md\nREADME-secret.md\n";
    expect(check(rules, "x.md")).toBe(true);
    expect(check(rules, "README.md")).toBe(false);
    expect(check(rules, "README-secret.md")).toBe(true);
    expect(check("dir\n!dir/keep", "dir/keep")).toBe(false);
    expect(check("dir\n!dir/keep", "dir/other")).toBe(true);
  });

  test("helpers", () => {
    expect(cleanPath("/a//b/./c/..")).toBe("a/b");
    expect(cleanPath("../x")).toBe("../x");
    expect(cleanPath("a/../../x")).toBe("../x");
    expect(patternRegExp("a.b", false).test("axb")).toBe(false);
  });
});
