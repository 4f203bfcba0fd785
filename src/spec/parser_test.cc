#include "spec/parser.h"

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace tauon::spec {
namespace {

using namespace std::chrono_literals;

// The example of DESIGN.md, "The pipeline file", verbatim.
constexpr std::string_view kDesignPipeline = R"yaml(name: digits
on:
  push: { branches: [main, "release/*"] }
env: { SEED: "42" }
jobs:
  lint:
    steps:
      - run: python3 -m pyflakes src tests
  test:
    steps:
      - name: unit tests
        run: python3 -m pytest -q --junitxml=out/junit.xml tests
    reports: { junit: out/junit.xml }
  train:
    needs: [lint, test]
    timeout: 15m
    retry: 1
    steps:
      - run: python3 src/train.py --out out/model
    artifacts: [out/model/]
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    steps:
      - run: python3 src/evaluate.py out/model --split ${{ matrix.split }} --out out/metrics.json
    metrics: out/metrics.json          # flat JSON object of numbers
    gates:
      - accuracy >= 0.95
      - accuracy >= baseline.accuracy - 0.005   # baseline = model now in production
model:
  name: digits-classifier
  path: out/model/
deploy:
  serve:
    command: python3 src/serve.py --model "$TAUON_MODEL_DIR" --port "$PORT"
    readiness: { http: /healthz, period: 1s, timeout: 1s }
  environments:
    staging:
      replicas: 2
      strategy: { rolling: { max_surge: 1, max_unavailable: 0 } }
    production:
      after: staging
      approval: manual
      replicas: 4
      strategy:
        canary:
          steps: [ { weight: 10, pause: 30s }, { weight: 50, pause: 1m } ]
          analysis:
            interval: 5s
            failure_limit: 2
            checks:
              - error_rate < 0.01
              - canary.latency_p99_ms <= stable.latency_p99_ms * 1.2
)yaml";

// Parses a pipeline that must be valid; a failure prints the diagnostics.
Pipeline ParseValid(std::string_view source) {
  auto pipeline = ParsePipeline(source);
  if (!pipeline) {
    ADD_FAILURE() << FormatDiagnostics(".tauon.yml", source, pipeline.error());
    return {};
  }
  return std::move(*pipeline);
}

// Every error as "LINE:COLUMN: message", one a line, or "valid".
std::string Errors(std::string_view source) {
  auto pipeline = ParsePipeline(source);
  if (pipeline) return "valid";
  std::string out;
  for (const Diagnostic& d : pipeline.error()) {
    out += fmt::format("{}:{}: {}\n", d.location.line, d.location.column, d.message);
  }
  return out;
}

// The errors printed as `tauon validate` prints them.
std::string Formatted(std::string_view source) {
  auto pipeline = ParsePipeline(source);
  if (pipeline) return "valid";
  return FormatDiagnostics(".tauon.yml", source, pipeline.error());
}

// A one-job pipeline whose step carries `step_fields` (each line indented
// for a step mapping entry, i.e. 8 spaces). The step starts on line 4.
std::string OneStep(std::string_view step_fields) {
  return fmt::format("jobs:\n  build:\n    steps:\n      - run: make\n{}", step_fields);
}

// ---------------------------------------------------------------------------
// Valid pipelines

TEST(ParserTest, DesignExamplePipelineLevel) {
  Pipeline p = ParseValid(kDesignPipeline);
  EXPECT_EQ(p.name, "digits");
  EXPECT_EQ(p.push_branches, (std::vector<std::string>{"main", "release/*"}));
  EXPECT_EQ(p.env, (EnvList{{"SEED", "42"}}));
  EXPECT_FALSE(p.cancel_in_progress);
  ASSERT_EQ(p.jobs.size(), 4u);
  EXPECT_EQ(p.jobs[0].name, "lint");
  EXPECT_EQ(p.jobs[1].name, "test");
  EXPECT_EQ(p.jobs[2].name, "train");
  EXPECT_EQ(p.jobs[3].name, "evaluate");
  EXPECT_EQ(p.jobs[3].location, (Location{21, 3}));
  EXPECT_EQ(p.FindJob("train"), &p.jobs[2]);
  EXPECT_EQ(p.FindJob("deploy"), nullptr);
}

TEST(ParserTest, DesignExampleBranchFilterUsesGlobs) {
  Pipeline p = ParseValid(kDesignPipeline);
  EXPECT_TRUE(p.MatchesBranch("main"));
  EXPECT_TRUE(p.MatchesBranch("release/1.2"));
  EXPECT_FALSE(p.MatchesBranch("release/1.2/hotfix"));
  EXPECT_FALSE(p.MatchesBranch("feature/x"));
  EXPECT_FALSE(p.MatchesBranch("mainline"));
}

TEST(ParserTest, DesignExampleJobs) {
  Pipeline p = ParseValid(kDesignPipeline);
  ASSERT_EQ(p.jobs.size(), 4u);

  const Job& lint = p.jobs[0];
  EXPECT_TRUE(lint.needs.empty());
  ASSERT_EQ(lint.steps.size(), 1u);
  EXPECT_EQ(lint.steps[0].name, "python3 -m pyflakes src tests");
  EXPECT_EQ(lint.steps[0].run, "python3 -m pyflakes src tests");
  EXPECT_EQ(lint.steps[0].shell, Shell::kSh);
  EXPECT_EQ(lint.steps[0].location, (Location{8, 9}));
  EXPECT_FALSE(lint.timeout);
  EXPECT_EQ(lint.retry, 0);
  EXPECT_FALSE(lint.junit);

  const Job& test = p.jobs[1];
  ASSERT_EQ(test.steps.size(), 1u);
  EXPECT_EQ(test.steps[0].name, "unit tests");
  EXPECT_EQ(test.steps[0].run, "python3 -m pytest -q --junitxml=out/junit.xml tests");
  EXPECT_EQ(test.junit, "out/junit.xml");

  const Job& train = p.jobs[2];
  EXPECT_EQ(train.needs, (std::vector<std::string>{"lint", "test"}));
  EXPECT_EQ(train.needs_locations, (std::vector<Location>{{15, 13}, {15, 19}}));
  EXPECT_EQ(train.timeout, Duration(15min));
  EXPECT_EQ(train.retry, 1);
  EXPECT_EQ(train.artifacts, (std::vector<std::string>{"out/model/"}));
  EXPECT_TRUE(train.matrix.empty());

  const Job& evaluate = p.jobs[3];
  EXPECT_EQ(evaluate.needs, (std::vector<std::string>{"train"}));
  ASSERT_EQ(evaluate.matrix.size(), 1u);
  EXPECT_EQ(evaluate.matrix[0].first, "split");
  EXPECT_EQ(evaluate.matrix[0].second, (std::vector<std::string>{"validation", "holdout"}));
  ASSERT_EQ(evaluate.steps.size(), 1u);
  // Substitution happens when the plan is built, not when the file is parsed.
  EXPECT_EQ(evaluate.steps[0].run,
            "python3 src/evaluate.py out/model --split ${{ matrix.split }} --out "
            "out/metrics.json");
  EXPECT_EQ(evaluate.metrics, "out/metrics.json");
  ASSERT_EQ(evaluate.gates.size(), 2u);
  EXPECT_EQ(evaluate.gates[0].expression.text(), "accuracy >= 0.95");
  EXPECT_EQ(evaluate.gates[0].location, (Location{28, 9}));
  EXPECT_EQ(evaluate.gates[1].expression.text(), "accuracy >= baseline.accuracy - 0.005");
  EXPECT_EQ(evaluate.gates[1].location, (Location{29, 9}));
  ASSERT_EQ(evaluate.gates[1].expression.names().size(), 2u);
  EXPECT_EQ(evaluate.gates[1].expression.names()[1].name, "baseline.accuracy");
}

TEST(ParserTest, DesignExampleModelAndDeploy) {
  Pipeline p = ParseValid(kDesignPipeline);
  ASSERT_TRUE(p.model);
  EXPECT_EQ(p.model->name, "digits-classifier");
  EXPECT_EQ(p.model->path, "out/model/");
  EXPECT_FALSE(p.model->params);
  EXPECT_EQ(p.model->location, (Location{31, 3}));

  ASSERT_TRUE(p.deploy);
  EXPECT_EQ(p.deploy->location, (Location{34, 3}));
  EXPECT_EQ(p.deploy->serve.command,
            "python3 src/serve.py --model \"$TAUON_MODEL_DIR\" --port \"$PORT\"");
  ASSERT_TRUE(p.deploy->serve.readiness);
  EXPECT_EQ(p.deploy->serve.readiness->path, "/healthz");
  EXPECT_EQ(p.deploy->serve.readiness->period, Duration(1000));
  EXPECT_FALSE(p.deploy->serve.liveness);
  ASSERT_EQ(p.deploy->environments.size(), 2u);
  const EnvironmentSpec& staging = p.deploy->environments[0];
  EXPECT_EQ(staging.name, "staging");
  EXPECT_EQ(staging.replicas, 2);
  EXPECT_EQ(staging.port, 0);
  EXPECT_EQ(staging.approval, Approval::kAuto);
  ASSERT_TRUE(staging.rolling);
  EXPECT_EQ(staging.StrategyName(), "rolling");
  EXPECT_EQ(staging.rolling->max_surge.Of(2, true), 1);
  EXPECT_EQ(staging.rolling->max_unavailable.Of(2, false), 0);
  const EnvironmentSpec& production = p.deploy->environments[1];
  EXPECT_EQ(production.after, "staging");
  EXPECT_EQ(production.approval, Approval::kManual);
  EXPECT_EQ(production.replicas, 4);
  ASSERT_TRUE(production.canary);
  EXPECT_FALSE(production.rolling);
  ASSERT_EQ(production.canary->steps.size(), 2u);
  EXPECT_EQ(production.canary->steps[1].pause, Duration(60'000));
  EXPECT_EQ(p.deploy->FindEnvironment("production"), &production);
  EXPECT_EQ(p.deploy->FindEnvironment("nowhere"), nullptr);
}

TEST(ParserTest, EveryJobAndStepField) {
  Pipeline p = ParseValid(R"(name: full
concurrency: { cancel_in_progress: true }
env: { GLOBAL: "1" }
jobs:
  build:
    env: { JOB_LEVEL: job, COUNT: 3, FLAG: true }
    timeout: 1h30m
    retry: 10
    if: branch == 'main' && event == 'push'
    services:
      db:
        run: ./db --port 5432
        readiness: ./db-ready
        readiness_timeout: 10s
        readiness_interval: 500ms
        env: { DB_MODE: test }
      cache:
        run: ./cache
    steps:
      - name: compile
        run: make -j4
        shell: bash
        env: { STEP_LEVEL: step }
        timeout: 90s
        continue_on_error: true
        if: success() && branch != 'wip'
      - run: make test
        shell: sh
        continue_on_error: false
    artifacts: out/bin
)");
  EXPECT_EQ(p.name, "full");
  EXPECT_TRUE(p.cancel_in_progress);
  EXPECT_TRUE(p.push_branches.empty());
  EXPECT_TRUE(p.MatchesBranch("anything/at/all"));
  EXPECT_EQ(p.env, (EnvList{{"GLOBAL", "1"}}));
  ASSERT_EQ(p.jobs.size(), 1u);
  const Job& job = p.jobs[0];
  EXPECT_EQ(job.env, (EnvList{{"JOB_LEVEL", "job"}, {"COUNT", "3"}, {"FLAG", "true"}}));
  EXPECT_EQ(job.timeout, Duration(90min));
  EXPECT_EQ(job.retry, 10);
  ASSERT_TRUE(job.condition);
  EXPECT_EQ(job.condition->expression.text(), "branch == 'main' && event == 'push'");
  EXPECT_EQ(job.condition->location, (Location{9, 9}));
  EXPECT_EQ(job.artifacts, (std::vector<std::string>{"out/bin"}));

  ASSERT_EQ(job.services.size(), 2u);
  const Service& db = job.services[0];
  EXPECT_EQ(db.name, "db");
  EXPECT_EQ(db.run, "./db --port 5432");
  EXPECT_EQ(db.readiness, "./db-ready");
  EXPECT_EQ(db.readiness_timeout, Duration(10s));
  EXPECT_EQ(db.readiness_interval, Duration(500ms));
  EXPECT_EQ(db.env, (EnvList{{"DB_MODE", "test"}}));
  const Service& cache = job.services[1];
  EXPECT_EQ(cache.name, "cache");
  EXPECT_EQ(cache.readiness, "");
  EXPECT_EQ(cache.readiness_timeout, Duration(30s));
  EXPECT_EQ(cache.readiness_interval, Duration(200ms));

  ASSERT_EQ(job.steps.size(), 2u);
  const Step& compile = job.steps[0];
  EXPECT_EQ(compile.name, "compile");
  EXPECT_EQ(compile.run, "make -j4");
  EXPECT_EQ(compile.shell, Shell::kBash);
  EXPECT_EQ(compile.env, (EnvList{{"STEP_LEVEL", "step"}}));
  EXPECT_EQ(compile.timeout, Duration(90s));
  EXPECT_TRUE(compile.continue_on_error);
  ASSERT_TRUE(compile.condition);
  EXPECT_EQ(compile.condition->expression.text(), "success() && branch != 'wip'");
  const Step& test = job.steps[1];
  EXPECT_EQ(test.shell, Shell::kSh);
  EXPECT_FALSE(test.continue_on_error);
  EXPECT_FALSE(test.timeout);
  EXPECT_FALSE(test.condition);
}

TEST(ParserTest, EnvKeepsTheOrderWritten) {
  Pipeline p = ParseValid(R"(env:
  ZETA: z
  ALPHA: a
  MIDDLE: "m"
jobs:
  build:
    steps: [{run: make}]
)");
  EXPECT_EQ(p.env, (EnvList{{"ZETA", "z"}, {"ALPHA", "a"}, {"MIDDLE", "m"}}));
}

TEST(ParserTest, DefaultStepNameIsTheFirstLineOfRun) {
  Pipeline p = ParseValid(R"(jobs:
  build:
    steps:
      - run: |
          ./configure --prefix=/usr
          make
      - run: "   make check   "
      - run: echo 0123456789012345678901234567890123456789012345678901234567890123456789
      - run: echo 012345678901234567890123456789012345678901234567890123
      - run: echo 012345678901234567890123456789012345678901234567890ééééé
)");
  ASSERT_EQ(p.jobs.size(), 1u);
  const std::vector<Step>& steps = p.jobs[0].steps;
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0].name, "./configure --prefix=/usr");
  EXPECT_EQ(steps[0].run, "./configure --prefix=/usr\nmake\n");
  EXPECT_EQ(steps[1].name, "make check");
  // Longer than 60 bytes: the first 57 and "...".
  EXPECT_EQ(steps[2].name, "echo 0123456789012345678901234567890123456789012345678901...");
  // Exactly 60 bytes: kept whole.
  EXPECT_EQ(steps[3].name, "echo 012345678901234567890123456789012345678901234567890123");
  // Never cut inside a UTF-8 character: byte 57 is the second byte of the first 'é'.
  EXPECT_EQ(steps[4].name, "echo 012345678901234567890123456789012345678901234567890...");
}

TEST(ParserTest, OnForms) {
  EXPECT_TRUE(ParseValid("on: push\njobs: {a: {steps: [{run: x}]}}\n").push_branches.empty());
  EXPECT_TRUE(ParseValid("on: [push]\njobs: {a: {steps: [{run: x}]}}\n").push_branches.empty());
  EXPECT_TRUE(ParseValid("on: {push: }\njobs: {a: {steps: [{run: x}]}}\n").push_branches.empty());
  EXPECT_EQ(
      ParseValid("on: {push: {branches: main}}\njobs: {a: {steps: [{run: x}]}}\n").push_branches,
      (std::vector<std::string>{"main"}));
}

TEST(ParserTest, NeedsMayBeASingleName) {
  Pipeline p = ParseValid(R"(jobs:
  a:
    steps: [{run: x}]
  b:
    needs: a
    steps: [{run: x}]
)");
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_EQ(p.jobs[1].needs, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.jobs[1].needs_locations, (std::vector<Location>{{5, 12}}));
}

TEST(ParserTest, ModelParams) {
  Pipeline p = ParseValid(R"(jobs: {a: {steps: [{run: x}]}}
model: { name: m.v2_final-1, path: out/m, params: conf/params.json }
)");
  ASSERT_TRUE(p.model);
  EXPECT_EQ(p.model->name, "m.v2_final-1");
  EXPECT_EQ(p.model->params, "conf/params.json");
}

// ---------------------------------------------------------------------------
// Unknown keys

TEST(ParserTest, UnknownKeySuggestsClosest) {
  EXPECT_EQ(Formatted(R"(jobs:
  train:
    need: [lint]
    steps: [{run: x}]
)"),
            ".tauon.yml:3:5: unknown key 'need' in job 'train' (did you mean 'needs'?)\n"
            "        need: [lint]\n"
            "        ^\n");
}

TEST(ParserTest, UnknownKeySuggestionsAtEveryLevel) {
  EXPECT_EQ(Errors(R"(nam: x
on: { push: { branch: [main] } }
concurrency: { cancel_in_progres: true }
jobs:
  a:
    step: []
    steps:
      - run: x
        shel: bash
    services:
      db: { run: x, readyness: y }
    reports: { junitt: x.xml }
model: { name: m, paths: out }
)"),
            "1:1: unknown key 'nam' in the pipeline (did you mean 'name'?)\n"
            "2:15: unknown key 'branch' in 'on.push' (did you mean 'branches'?)\n"
            "3:16: unknown key 'cancel_in_progres' in 'concurrency' (did you mean "
            "'cancel_in_progress'?)\n"
            "6:5: unknown key 'step' in job 'a' (did you mean 'steps'?)\n"
            "9:9: unknown key 'shel' in a step (did you mean 'shell'?)\n"
            "11:21: unknown key 'readyness' in service 'db' (did you mean 'readiness'?)\n"
            "12:16: unknown key 'junitt' in 'reports' (did you mean 'junit'?)\n"
            "13:8: 'model' needs a 'path' (the model directory)\n"
            "13:19: unknown key 'paths' in 'model' (did you mean 'path'?)\n");
}

TEST(ParserTest, UnknownKeyWithoutCloseMatchListsTheKeys) {
  EXPECT_EQ(Errors(R"(triggers: push
jobs:
  a:
    steps:
      - run: x
        workdir: src
    image: python:3
)"),
            "1:1: unknown key 'triggers' in the pipeline (expected one of: name, on, env, "
            "concurrency, jobs, model, deploy)\n"
            "6:9: unknown key 'workdir' in a step (expected one of: name, run, shell, env, "
            "timeout, if, continue_on_error)\n"
            "7:5: unknown key 'image' in job 'a' (expected one of: needs, steps, env, timeout, "
            "retry, matrix, services, artifacts, reports, if, metrics, gates)\n");
}

// ---------------------------------------------------------------------------
// Types

TEST(ParserTest, WrongTypes) {
  EXPECT_EQ(Errors(R"(name: [digits]
env: [SEED]
jobs:
  a:
    needs: { b: 1 }
    steps: { run: x }
    artifacts: { out: 1 }
    metrics: [m.json]
    reports: out/junit.xml
    gates: accuracy > 0.9
    if: [main]
    services: [db]
  b:
    steps:
      - run: [make, test]
        name: { a: b }
        shell: [bash]
        env: A=1
      - make test
)"),
            "1:7: name must be a string, got a list\n"
            "2:6: env must be a mapping, got a list\n"
            "5:12: needs must be a string or a list of strings, got a mapping\n"
            "6:12: 'steps' must be a non-empty list of steps, got a mapping\n"
            "7:16: artifact path must be a string, got a mapping\n"
            "8:14: metrics must be a string, got a list\n"
            "9:14: 'reports' must be a mapping, got 'out/junit.xml'\n"
            "10:12: 'gates' must be a list of expressions, got 'accuracy > 0.9'\n"
            "11:9: if must be a string, got a list\n"
            "12:15: 'services' must be a mapping, got a list\n"
            "15:14: run must be a string, got a list\n"
            "16:15: step name must be a string, got a mapping\n"
            "17:16: shell must be a string, got a list\n"
            "18:14: env must be a mapping, got 'A=1'\n"
            "19:9: a step must be a mapping, got 'make test'\n");
}

TEST(ParserTest, TopLevelShapes) {
  EXPECT_EQ(Errors("- build\n- test\n"), "1:1: the pipeline must be a mapping, got a list\n");
  EXPECT_EQ(Errors("jobs: [build, test]\n"), "1:7: 'jobs' must be a mapping, got a list\n");
  EXPECT_EQ(Errors("jobs: {}\n"), "1:7: 'jobs' must define at least one job\n");
  EXPECT_EQ(Errors("name: x\n"), "1:1: the pipeline has no 'jobs'\n");
  EXPECT_EQ(Errors("jobs:\n  a: [x]\n"), "2:6: job 'a' must be a mapping, got a list\n");
  EXPECT_EQ(Errors("jobs:\n  a:\n    needs: []\n"), "2:3: job 'a' has no 'steps'\n");
  EXPECT_EQ(Errors("jobs:\n  a:\n    steps: []\n"),
            "3:12: 'steps' must be a non-empty list of steps, got an empty list\n");
  EXPECT_EQ(Errors("jobs:\n  a:\n    steps: {}\n"),
            "3:12: 'steps' must be a non-empty list of steps, got an empty mapping\n");
  EXPECT_EQ(Errors("jobs:\n  a:\n    steps:\n      - name: x\n"),
            "4:9: step in job 'a' has no 'run' command\n");
  EXPECT_EQ(Errors("jobs:\n  a:\n    steps:\n      - run: \"  \"\n"),
            "4:14: run must not be empty\n");
  EXPECT_EQ(Errors("name: \"\"\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:7: name must not be empty\n");
  EXPECT_EQ(Errors("deploy: [staging]\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:9: 'deploy' must be a mapping, got a list\n");
  EXPECT_EQ(Errors("jobs: {a: {steps: [{run: x, shell: zsh}]}}\n"),
            "1:36: unknown shell 'zsh' (expected 'sh' or 'bash')\n");
}

TEST(ParserTest, NonStringKeys) {
  EXPECT_EQ(Errors("jobs:\n  [a, b]: {steps: [{run: x}]}\n"),
            "2:3: keys in 'jobs' must be strings, got a list\n");
  EXPECT_EQ(Errors("jobs:\n  a: {steps: [{run: x}]}\n  : {steps: [{run: x}]}\n"),
            "3:3: keys in 'jobs' must be strings, got nothing\n");
}

TEST(ParserTest, EmptyValueIsReportedAtItsKey) {
  // An empty value has no text of its own; YAML places it at the next token,
  // which may be lines away.
  EXPECT_EQ(Errors(R"(jobs:
  lint:
  test:
    timeout:
    steps:
      -
      - run: x

)"),
            "2:3: job 'lint' must be a mapping, got nothing\n"
            "4:5: timeout must be a duration such as 30s or 15m, got nothing\n"
            "5:5: a step must be a mapping, got nothing\n");
}

TEST(ParserTest, ExplicitNullIsReportedWhereWritten) {
  EXPECT_EQ(Errors(OneStep("        env: { A: é, B: ~, C: null, D: nullx }\n")),
            // Columns count bytes: 'é' is two.
            "5:26: value of environment variable 'B' must be a string, number or boolean, got "
            "nothing\n"
            "5:32: value of environment variable 'C' must be a string, number or boolean, got "
            "nothing\n");
}

TEST(ParserTest, QuotedScalarIsAString) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    retry: "2"
    steps:
      - run: x
        continue_on_error: "true"
)"),
            "3:12: retry must be a whole number from 0 to 10, got the string \"2\"\n"
            "6:28: continue_on_error must be true or false, got the string \"true\"\n");
}

TEST(ParserTest, LongOrMultiLineValuesAreShortenedInMessages) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    gates: |
      accuracy > 0.9
      f1 > 0.8
    steps:
      - a very long step that is written as a plain string by mistake
)"),
            "3:12: 'gates' must be a list of expressions, got the string \"accuracy > 0.9...\"\n"
            "7:9: a step must be a mapping, got 'a very long step that is written as a pl...'\n");
  EXPECT_EQ(Errors("jobs:\n  a:\n    gates: |\n      accuracy > 0.9\n    steps: [{run: x}]\n"),
            "3:12: 'gates' must be a list of expressions, got the string \"accuracy > 0.9\"\n");
}

// ---------------------------------------------------------------------------
// Durations, booleans, numbers

TEST(ParserTest, BadDurations) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    timeout: 5
    steps:
      - run: x
        timeout: 5x
      - run: x
        timeout: 0s
      - run: x
        timeout: [1m]
    services:
      db: { run: x, readiness_timeout: -1s, readiness_interval: 10 }
)"),
            "3:14: timeout: invalid duration '5': missing unit (ms, s, m or h)\n"
            "6:18: timeout: invalid duration '5x': unknown unit 'x' (expected ms, s, m or h)\n"
            "8:18: timeout must be longer than zero\n"
            "10:18: timeout must be a duration such as 30s or 15m, got a list\n"
            "12:40: readiness_timeout: invalid duration '-1s': expected a number followed by ms, "
            "s, m or h (e.g. 30s, 15m)\n"
            "12:65: readiness_interval: invalid duration '10': missing unit (ms, s, m or h)\n");
}

TEST(ParserTest, BadBooleans) {
  EXPECT_EQ(Errors(R"(concurrency: { cancel_in_progress: yes }
jobs:
  a:
    steps:
      - run: x
        continue_on_error: True
      - run: x
        continue_on_error: 1
      - run: x
        continue_on_error: [true]
)"),
            "1:36: cancel_in_progress must be true or false, got 'yes'\n"
            "6:28: continue_on_error must be true or false, got 'True'\n"
            "8:28: continue_on_error must be true or false, got '1'\n"
            "10:28: continue_on_error must be true or false, got a list\n");
}

TEST(ParserTest, ConcurrencyErrors) {
  EXPECT_EQ(Errors("concurrency: true\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:14: 'concurrency' must be a mapping, got 'true'\n");
  EXPECT_EQ(Errors("concurrency: { cancel: true }\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:16: unknown key 'cancel' in 'concurrency' (expected one of: "
            "cancel_in_progress)\n");
}

TEST(ParserTest, RetryOutOfRange) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    retry: 11
    steps: [{run: x}]
  b:
    retry: -1
    steps: [{run: x}]
  c:
    retry: 1.5
    steps: [{run: x}]
  d:
    retry: 99999999999
    steps: [{run: x}]
  e:
    retry: 0
    steps: [{run: x}]
)"),
            "3:12: retry must be a whole number from 0 to 10, got '11'\n"
            "6:12: retry must be a whole number from 0 to 10, got '-1'\n"
            "9:12: retry must be a whole number from 0 to 10, got '1.5'\n"
            "12:12: retry must be a whole number from 0 to 10, got '99999999999'\n");
}

// ---------------------------------------------------------------------------
// Names

TEST(ParserTest, InvalidJobNames) {
  EXPECT_EQ(Errors(R"(jobs:
  "unit tests":
    steps: [{run: x}]
  .hidden:
    steps: [{run: x}]
  -dash:
    steps: [{run: x}]
  a/b:
    steps: [{run: x}]
  ok_name-1.2:
    steps: [{run: x}]
)"),
            "2:3: invalid job name 'unit tests': use letters, digits, '_', '-' and '.'\n"
            "4:3: invalid job name '.hidden': use letters, digits, '_', '-' and '.'\n"
            "6:3: invalid job name '-dash': use letters, digits, '_', '-' and '.'\n"
            "8:3: invalid job name 'a/b': use letters, digits, '_', '-' and '.'\n");
}

TEST(ParserTest, InvalidEnvNames) {
  EXPECT_EQ(Errors(R"(env: { 1ST: x, "A-B": y, "": z, _OK: 1, ok2: 2 }
jobs:
  a:
    env: { "WITH SPACE": x, LIST: [1, 2] }
    steps: [{run: x}]
)"),
            "1:8: invalid environment variable name '1ST': use letters, digits and '_', not "
            "starting with a digit\n"
            "1:16: invalid environment variable name 'A-B': use letters, digits and '_', not "
            "starting with a digit\n"
            "1:26: invalid environment variable name '': use letters, digits and '_', not "
            "starting with a digit\n"
            "4:12: invalid environment variable name 'WITH SPACE': use letters, digits and '_', "
            "not starting with a digit\n"
            "4:35: value of environment variable 'LIST' must be a string, number or boolean, got "
            "a list\n");
}

TEST(ParserTest, ReservedTauonEnvNames) {
  EXPECT_EQ(Errors(R"(env: { TAUON_RUN_ID: x }
jobs:
  a:
    steps:
      - run: x
        env: { TAUON_: y, TAUONISH: ok, tauon_lower: ok }
)"),
            "1:8: environment variable 'TAUON_RUN_ID' is reserved: names starting with TAUON_ "
            "are set by Tauon\n"
            "6:16: environment variable 'TAUON_' is reserved: names starting with TAUON_ are set "
            "by Tauon\n");
}

TEST(ParserTest, DuplicateKeys) {
  EXPECT_EQ(Errors(R"(name: a
name: b
jobs:
  build:
    steps:
      - run: x
        run: y
        env: { A: 1, A: 2 }
  build:
    steps: [{run: z}]
)"),
            "2:1: duplicate key 'name' in the pipeline (first given at line 1)\n"
            "7:9: duplicate key 'run' in a step (first given at line 6)\n"
            "8:22: duplicate key 'A' in env (first given at line 8)\n"
            "9:3: duplicate key 'build' in 'jobs' (first given at line 4)\n");
}

// ---------------------------------------------------------------------------
// needs

TEST(ParserTest, NeedsMissingJobSuggestsClosest) {
  EXPECT_EQ(Formatted(R"(jobs:
  lint:
    steps: [{run: x}]
  test:
    needs: [lnt, package]
    steps: [{run: x}]
)"),
            ".tauon.yml:5:13: job 'test' needs 'lnt', which is not a job in this pipeline (did "
            "you mean 'lint'?)\n"
            "        needs: [lnt, package]\n"
            "                ^\n"
            ".tauon.yml:5:18: job 'test' needs 'package', which is not a job in this pipeline\n"
            "        needs: [lnt, package]\n"
            "                     ^\n");
}

TEST(ParserTest, DuplicateNeeds) {
  EXPECT_EQ(Errors(R"(jobs:
  lint:
    steps: [{run: x}]
  test:
    needs: [lint, lint]
    steps: [{run: x}]
)"),
            "5:19: job 'test' lists 'lint' twice in 'needs'\n");
}

TEST(ParserTest, EmptyNeedsEntry) {
  EXPECT_EQ(Errors("jobs:\n  a:\n    needs: [\"\"]\n    steps: [{run: x}]\n"),
            "3:13: needs must not be empty\n");
}

TEST(ParserTest, CycleReportedWithItsPath) {
  EXPECT_EQ(Formatted(R"(jobs:
  train:
    needs: [evaluate]
    steps: [{run: x}]
  evaluate:
    needs: [train]
    steps: [{run: x}]
)"),
            ".tauon.yml:6:13: dependency cycle: train -> evaluate -> train\n"
            "        needs: [train]\n"
            "                ^\n");
}

TEST(ParserTest, SelfCycle) {
  EXPECT_EQ(Errors(R"(jobs:
  train:
    needs: train
    steps: [{run: x}]
)"),
            "3:12: dependency cycle: train -> train\n");
}

// The cycle starts at the first of its jobs in the file and is reported at
// the need that closes it.
TEST(ParserTest, LongerCycle) {
  EXPECT_EQ(Errors(R"(jobs:
  lint:
    steps: [{run: x}]
  a:
    needs: [lint, c]
    steps: [{run: x}]
  b:
    needs: [a]
    steps: [{run: x}]
  c:
    needs: [b]
    steps: [{run: x}]
)"),
            "8:13: dependency cycle: a -> c -> b -> a\n");
}

TEST(ParserTest, NeedsErrorsAreReportedWithOtherErrors) {
  EXPECT_EQ(Errors(R"(jobs:
  lint:
    steps: [{run: x}]
    timeout: 10
  test:
    needs: [lnt]
    steps: [{run: x}]
)"),
            "4:14: timeout: invalid duration '10': missing unit (ms, s, m or h)\n"
            "6:13: job 'test' needs 'lnt', which is not a job in this pipeline (did you mean "
            "'lint'?)\n");
}

TEST(ParserTest, MultipleErrorsSortedByPosition) {
  // Steps are checked after the rest of their job, and needs after every
  // job: the report is still in file order.
  EXPECT_EQ(Errors(R"(jobs:
  train:
    needs: [prepar]
    steps:
      - run: x
        shel: bash
    retry: 12
  prepare:
    steps: [{run: x, timeout: 1}]
    need: [train]
)"),
            "3:13: job 'train' needs 'prepar', which is not a job in this pipeline (did you mean "
            "'prepare'?)\n"
            "6:9: unknown key 'shel' in a step (did you mean 'shell'?)\n"
            "7:12: retry must be a whole number from 0 to 10, got '12'\n"
            "9:31: timeout: invalid duration '1': missing unit (ms, s, m or h)\n"
            "10:5: unknown key 'need' in job 'prepare' (did you mean 'needs'?)\n");
}

// ---------------------------------------------------------------------------
// YAML and empty files

TEST(ParserTest, YamlSyntaxErrorIsTheOnlyError) {
  EXPECT_EQ(Formatted(R"(jobs:
  a:
    need: [x]
    steps:
  - run: x
   b: 1
)"),
            ".tauon.yml:5:3: invalid YAML: end of map not found\n"
            "      - run: x\n"
            "      ^\n");
}

TEST(ParserTest, YamlErrorAtTheEndOfTheFile) {
  EXPECT_EQ(Formatted("jobs:\n  a:\n    steps: [{run: x}\n"),
            ".tauon.yml:4:1: invalid YAML: end of sequence flow not found\n");
}

TEST(ParserTest, ASecondYamlDocumentIsAnError) {
  // yaml-cpp's Load() would read the first document and drop the rest unseen.
  EXPECT_EQ(Formatted("jobs:\n  a:\n    steps: [{run: x}]\n---\njobs: {}\n"),
            ".tauon.yml:5:1: a second YAML document: a pipeline file holds one (remove the "
            "'---' before this line, or what follows it)\n"
            "    jobs: {}\n"
            "    ^\n");
  // A leading '---' starts the one document.
  EXPECT_EQ(Formatted("---\njobs:\n  a:\n    steps: [{run: x}]\n"), "valid");
}

TEST(ParserTest, YamlTabIndentation) {
  EXPECT_EQ(Formatted("jobs:\n\ta:\n"),
            ".tauon.yml:2:3: invalid YAML: illegal map value\n"
            "    \ta:\n"
            "    \t ^\n");
}

TEST(ParserTest, EmptyFile) {
  EXPECT_EQ(Formatted(""),
            ".tauon.yml:1:1: the pipeline file is empty: it needs at least 'jobs'\n");
  EXPECT_EQ(Formatted("# nothing yet\n"),
            ".tauon.yml:1:1: the pipeline file is empty: it needs at least 'jobs'\n"
            "    # nothing yet\n"
            "    ^\n");
}

// ---------------------------------------------------------------------------
// ${{ matrix.KEY }} substitutions

TEST(ParserTest, MatrixSubstitutionUnknownKeySuggestsClosest) {
  EXPECT_EQ(Formatted(R"(jobs:
  evaluate:
    steps:
      - run: evaluate --split ${{ matrix.splt }}
    matrix: { split: [validation, holdout] }
)"),
            ".tauon.yml:4:31: job 'evaluate' has no matrix key 'splt' (did you mean 'split'?)\n"
            "          - run: evaluate --split ${{ matrix.splt }}\n"
            "                                  ^\n");
}

TEST(ParserTest, MatrixSubstitutionUnknownKeyListsTheKeys) {
  EXPECT_EQ(Errors(R"(jobs:
  evaluate:
    matrix: { split: [validation, holdout], seed: [1, 2] }
    steps:
      - run: evaluate ${{matrix.fold}}
)"),
            "5:23: job 'evaluate' has no matrix key 'fold' (its keys are: split, seed)\n");
}

TEST(ParserTest, MatrixSubstitutionWithoutMatrix) {
  EXPECT_EQ(Errors(R"(jobs:
  train:
    steps:
      - run: train --seed ${{ matrix.seed }}
)"),
            "4:27: 'matrix.seed' is used but job 'train' has no matrix\n");
}

TEST(ParserTest, OnlyMatrixSubstitutionsAreSupported) {
  EXPECT_EQ(Errors(R"(jobs:
  train:
    steps:
      - run: train --token ${{ secrets.TOKEN }} --seed ${{ env.SEED }}
)"),
            "4:28: unsupported substitution '${{ secrets.TOKEN }}': only ${{ matrix.KEY }} is "
            "supported (use $NAME for environment variables)\n"
            "4:56: unsupported substitution '${{ env.SEED }}': only ${{ matrix.KEY }} is "
            "supported (use $NAME for environment variables)\n");
}

TEST(ParserTest, UnterminatedSubstitution) {
  EXPECT_EQ(Errors(R"(jobs:
  evaluate:
    matrix: { split: [a] }
    steps:
      - run: evaluate ${{ matrix.split
)"),
            "5:23: unterminated '${{': expected '}}'\n");
}

TEST(ParserTest, SubstitutionsCheckedInEveryField) {
  EXPECT_EQ(Errors(R"(jobs:
  evaluate:
    env: { SPLIT: "${{ matrix.splits }}" }
    services:
      db: { run: "db ${{ matrix.x }}", readiness: "ready ${{ matrix.y }}",
            env: { DB: "${{ matrix.z }}" } }
    steps:
      - name: "eval ${{ matrix.a }}"
        run: x
        env: { S: "${{ matrix.b }}" }
    artifacts: ["out/${{ matrix.c }}"]
    reports: { junit: "${{ matrix.d }}.xml" }
    metrics: "${{ matrix.e }}.json"
    matrix: { split: [a, b] }
)"),
            "3:20: job 'evaluate' has no matrix key 'splits' (did you mean 'split'?)\n"
            "5:22: job 'evaluate' has no matrix key 'x' (its keys are: split)\n"
            "5:58: job 'evaluate' has no matrix key 'y' (its keys are: split)\n"
            "6:25: job 'evaluate' has no matrix key 'z' (its keys are: split)\n"
            "8:21: job 'evaluate' has no matrix key 'a' (its keys are: split)\n"
            "10:20: job 'evaluate' has no matrix key 'b' (its keys are: split)\n"
            "11:22: job 'evaluate' has no matrix key 'c' (its keys are: split)\n"
            "12:24: job 'evaluate' has no matrix key 'd' (its keys are: split)\n"
            "13:15: job 'evaluate' has no matrix key 'e' (its keys are: split)\n");
}

TEST(ParserTest, MatrixErrors) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    matrix: { "bad-key": [1], empty: [], m: { x: 1 }, dup: [1, 1], nested: [[1]] }
    steps: [{run: x}]
  b:
    matrix: [x]
    steps: [{run: x}]
  c:
    matrix: { a: [1, 2, 3, 4, 5, 6, 7, 8, 9], b: [1, 2, 3, 4, 5, 6, 7, 8, 9], c: [1, 2, 3, 4] }
    steps: [{run: x}]
)"),
            "3:15: invalid matrix key 'bad-key': use letters, digits and '_'\n"
            "3:38: matrix key 'empty' must have a non-empty list of values, got an empty list\n"
            "3:45: matrix key 'm' must have a non-empty list of values, got a mapping\n"
            "3:64: duplicate value '1' for matrix key 'dup'\n"
            "3:77: matrix values must be strings, numbers or booleans, got a list\n"
            "6:13: 'matrix' must be a mapping, got a list\n"
            "9:13: the matrix expands to 324 jobs, more than the limit of 256\n");
}

// ---------------------------------------------------------------------------
// if: conditions and gates

TEST(ParserTest, ConditionUnknownNameSuggestsClosest) {
  EXPECT_EQ(Formatted(R"(jobs:
  deploy:
    if: event == 'push' && brnch == 'main'
    steps: [{run: x}]
)"),
            ".tauon.yml:3:28: unknown name 'brnch' in condition (did you mean 'branch'?)\n"
            "        if: event == 'push' && brnch == 'main'\n"
            "                               ^\n");
}

TEST(ParserTest, ConditionUnknownNameListsTheNames) {
  EXPECT_EQ(Errors(OneStep("        if: tag == 'v1'\n")),
            "5:13: unknown name 'tag' in condition (expected one of: branch, event, commit)\n");
}

TEST(ParserTest, ConditionUnknownFunction) {
  EXPECT_EQ(Errors(OneStep("        if: sucess() || cancelled()\n")),
            "5:13: unknown function 'sucess' (expected one of: success(), failure(), always())\n"
            "5:25: unknown function 'cancelled' (expected one of: success(), failure(), "
            "always())\n");
}

TEST(ParserTest, ConditionSyntaxErrorLocatedInPlainScalar) {
  EXPECT_EQ(Formatted(OneStep("        if: branch = 'main'\n")),
            ".tauon.yml:5:20: invalid expression: unexpected character '=' (did you mean "
            "'=='?)\n"
            "            if: branch = 'main'\n"
            "                       ^\n");
}

TEST(ParserTest, ConditionPrematureEndPointsAfterTheText) {
  EXPECT_EQ(Errors(OneStep("        if: branch == 'main' &&\n")),
            "5:32: invalid expression: unexpected end of expression, expected a value\n");
}

TEST(ParserTest, ConditionLocatedInSingleQuotedScalar) {
  // '' stands for one quote: the columns are those of the file, not of the value.
  EXPECT_EQ(Errors(OneStep("        if: 'branch == ''main'' && evnt == \"push\"'\n")),
            "5:36: unknown name 'evnt' in condition (did you mean 'event'?)\n");
}

TEST(ParserTest, ConditionLocatedInDoubleQuotedScalar) {
  EXPECT_EQ(Errors(OneStep(R"(        if: "branch == \"main\" && evnt == 'push'"
      - run: make
        if: "branch == '\u00e9\x41' && comit"
)")),
            "5:36: unknown name 'evnt' in condition (did you mean 'event'?)\n"
            "7:40: unknown name 'comit' in condition (did you mean 'commit'?)\n");
}

TEST(ParserTest, ConditionLocatedInMultiLineScalars) {
  EXPECT_EQ(Formatted(OneStep(R"(        if: branch == 'main' &&
          evnt == 'push'
      - run: make
        if: |
          always() &&
            comit != ''
)")),
            ".tauon.yml:6:11: unknown name 'evnt' in condition (did you mean 'event'?)\n"
            "              evnt == 'push'\n"
            "              ^\n"
            ".tauon.yml:10:13: unknown name 'comit' in condition (did you mean 'commit'?)\n"
            "                comit != ''\n"
            "                ^\n");
}

TEST(ParserTest, ConditionMustBeAString) {
  EXPECT_EQ(Errors(OneStep("        if: [branch]\n")), "5:13: if must be a string, got a list\n");
}

TEST(ParserTest, GateSyntaxErrors) {
  EXPECT_EQ(Errors(R"(jobs:
  evaluate:
    steps: [{run: x}]
    metrics: out/metrics.json
    gates:
      - accuracy >=
      - "accuracy > 0.9 and"
      - accuracy => 0.9
      - max(accuracy, f1) > 0.9
      - [accuracy]
      - accuracy >= baseline.accuracy - 0.005
)"),
            "6:20: invalid expression: unexpected end of expression, expected a value\n"
            "7:28: invalid expression: unexpected end of expression, expected a value\n"
            "8:18: invalid expression: unexpected character '=' (did you mean '>='?)\n"
            "9:9: unknown function 'max': gates take no functions\n"
            "10:9: gate must be a string, got a list\n");
}

// ---------------------------------------------------------------------------
// Paths

TEST(ParserTest, PathsMustStayInTheWorkspace) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    steps: [{run: x}]
    artifacts: [/etc/passwd, out/../../secrets, .., out/./model, ..hidden/x]
    reports: { junit: ../junit.xml }
    metrics: /tmp/metrics.json
model: { name: m, path: out/.., params: /p.json }
)"),
            "4:17: artifact path '/etc/passwd' must be relative to the workspace, not absolute\n"
            "4:30: artifact path 'out/../../secrets' must stay inside the workspace: '..' is not "
            "allowed\n"
            "4:49: artifact path '..' must stay inside the workspace: '..' is not allowed\n"
            "5:23: reports.junit '../junit.xml' must stay inside the workspace: '..' is not "
            "allowed\n"
            "6:14: metrics '/tmp/metrics.json' must be relative to the workspace, not absolute\n"
            "7:25: model path 'out/..' must stay inside the workspace: '..' is not allowed\n"
            "7:41: model params '/p.json' must be relative to the workspace, not absolute\n");
}

// ---------------------------------------------------------------------------
// on, services, model

TEST(ParserTest, OnErrors) {
  EXPECT_EQ(Errors("on: pus\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:5: unknown event 'pus' (did you mean 'push'?)\n");
  EXPECT_EQ(Errors("on: [push, pull_request]\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:12: unknown event 'pull_request' (expected 'push')\n");
  EXPECT_EQ(Errors("on: { pull_request: {} }\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:7: unknown key 'pull_request' in 'on' (expected one of: push)\n");
  EXPECT_EQ(Errors("on: { push: [main] }\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:13: 'on.push' must be a mapping, got a list\n");
  EXPECT_EQ(Errors("on: { push: { branches: { main: 1 } } }\njobs: {a: {steps: [{run: x}]}}\n"),
            "1:25: branch pattern must be a string or a list of strings, got a mapping\n");
}

TEST(ParserTest, ServiceErrors) {
  EXPECT_EQ(Errors(R"(jobs:
  a:
    steps: [{run: x}]
    services:
      "my db":
        run: x
      cache:
        readiness: x
        port: 6379
      queue: ./queue
)"),
            "5:7: invalid service name 'my db' in job 'a': use letters, digits, '_', '-' and "
            "'.'\n"
            "8:9: service 'cache' has no 'run' command\n"
            "9:9: unknown key 'port' in service 'cache' (expected one of: run, readiness, "
            "readiness_timeout, readiness_interval, env)\n"
            "10:14: service 'queue' must be a mapping, got './queue'\n");
}

TEST(ParserTest, ModelErrors) {
  EXPECT_EQ(Errors("jobs: {a: {steps: [{run: x}]}}\nmodel: {}\n"),
            "2:8: 'model' needs a 'name'\n"
            "2:8: 'model' needs a 'path' (the model directory)\n");
  EXPECT_EQ(Errors("jobs: {a: {steps: [{run: x}]}}\nmodel: digits\n"),
            "2:8: 'model' must be a mapping, got 'digits'\n");
  EXPECT_EQ(Errors("jobs: {a: {steps: [{run: x}]}}\nmodel: { name: my model, path: out }\n"),
            "2:16: invalid model name 'my model': use letters, digits, '_', '-' and '.'\n");
  EXPECT_EQ(Errors("jobs: {a: {steps: [{run: x}]}}\nmodel: { name: \"\", path: out }\n"),
            "2:16: model name must not be empty\n");
}

// ---------------------------------------------------------------------------
// FormatDiagnostic

TEST(FormatDiagnosticTest, LineAndCaret) {
  EXPECT_EQ(FormatDiagnostic("ci.yml", "a: 1\nbb: 2\n", {{2, 5}, "bad value"}),
            "ci.yml:2:5: bad value\n"
            "    bb: 2\n"
            "        ^\n");
}

TEST(FormatDiagnosticTest, CaretUnderTabIndentedText) {
  EXPECT_EQ(FormatDiagnostic("f", "\t\tkey: x\n", {{1, 3}, "m"}),
            "f:1:3: m\n"
            "    \t\tkey: x\n"
            "    \t\t^\n");
}

TEST(FormatDiagnosticTest, CarriageReturnIsNotShown) {
  EXPECT_EQ(FormatDiagnostic("f", "a: 1\r\nb: 2\r\n", {{2, 1}, "m"}),
            "f:2:1: m\n"
            "    b: 2\n"
            "    ^\n");
}

TEST(FormatDiagnosticTest, LocationBeyondTheEndOfTheFile) {
  EXPECT_EQ(FormatDiagnostic("f", "a: 1\n", {{2, 1}, "m"}), "f:2:1: m\n");
  EXPECT_EQ(FormatDiagnostic("f", "a: 1\n", {{7, 3}, "m"}), "f:7:3: m\n");
  EXPECT_EQ(FormatDiagnostic("f", "", {{1, 1}, "m"}), "f:1:1: m\n");
}

TEST(FormatDiagnosticTest, ColumnBeyondTheEndOfTheLine) {
  EXPECT_EQ(FormatDiagnostic("f", "ab\n", {{1, 9}, "m"}),
            "f:1:9: m\n"
            "    ab\n"
            "      ^\n");
}

TEST(FormatDiagnosticTest, LastLineWithoutNewline) {
  EXPECT_EQ(FormatDiagnostic("f", "a: 1\nb: [", {{2, 4}, "m"}),
            "f:2:4: m\n"
            "    b: [\n"
            "       ^\n");
}

TEST(FormatDiagnosticTest, UnknownLocation) {
  EXPECT_EQ(FormatDiagnostic("f", "a: 1\n", {{}, "cannot read the file"}),
            "f: cannot read the file\n");
}

TEST(FormatDiagnosticTest, DiagnosticsAreConcatenated) {
  EXPECT_EQ(FormatDiagnostics("f", "a\nb\n", {{{1, 1}, "one"}, {{2, 1}, "two"}}),
            "f:1:1: one\n    a\n    ^\nf:2:1: two\n    b\n    ^\n");
  EXPECT_EQ(FormatDiagnostics("f", "a\n", {}), "");
}

}  // namespace
}  // namespace tauon::spec

namespace tauon::spec {
namespace {

TEST(ParserTest, SubstitutionsInThePipelineEnvAreErrors) {
  EXPECT_EQ(Errors("env: { SPLIT: \"${{ matrix.split }}\" }\njobs: { a: { steps: [ { run: x } ] } }\n"),
            "1:16: substitutions such as ${{ matrix.KEY }} work inside jobs only, not in the "
            "pipeline's env\n");
}

TEST(ParserTest, UnquotedBangReadsAsAYamlTag) {
  EXPECT_EQ(Errors(OneStep("        if: !success()\n")),
            "5:13: '!success()' is read as a YAML tag: quote the expression, e.g. "
            "\"!success()\"\n");
}

TEST(ParserTest, DefaultStepNamesAreMarkedAsSuch) {
  Pipeline p = ParseValid("jobs: { a: { steps: [ { run: make }, { name: Build, run: make } ] } }\n");
  EXPECT_FALSE(p.jobs[0].steps[0].named);
  EXPECT_TRUE(p.jobs[0].steps[1].named);
}

TEST(ParserTest, GatesNeedAMetricsFile) {
  EXPECT_EQ(Errors("jobs:\n  eval:\n    steps: [ { run: x } ]\n    gates: [ \"accuracy > 0.9\" ]\n"),
            "2:3: job 'eval' has gates but no 'metrics' file for them to read\n");
}

TEST(ParserTest, DeployErrors) {
  const std::string serve = "jobs: { a: { steps: [ { run: x } ] } }\ndeploy:\n  serve:\n";
  EXPECT_EQ(Errors(serve + "    command: ./serve\n    readiness: { http: healthz, period: 0s }\n"
                           "    replicas: 0\n"
                           "  environments:\n"
                           "    staging: { port: 8080, aprroval: manual }\n"
                           "    prod: { after: stagin, port: 8080, approval: sometimes }\n"
                           "    qa: { strategy: { canary: {}, rolling: {} } }\n"),
            "5:24: 'http' must be a path starting with '/', got 'healthz'\n"
            "5:41: period must be longer than zero\n"
            "6:15: replicas must be a whole number from 1 to 64, got '0'\n"
            "8:28: unknown key 'aprroval' in environment 'staging' (did you mean 'approval'?)\n"
            "9:5: environment 'prod' comes after 'stagin', which is not defined (did you mean "
            "'staging'?)\n"
            "9:5: environment 'staging' and environment 'prod' both use port 8080\n"
            "9:50: approval must be 'auto' or 'manual', got 'sometimes'\n"
            "10:21: 'strategy' takes one of rolling, blue_green or canary\n"
            "10:31: 'canary' needs 'steps'\n");
  EXPECT_EQ(Errors("jobs: { a: { steps: [ { run: x } ] } }\ndeploy: { environments: {} }\n"),
            "2:9: 'deploy' needs 'serve' (the command that runs a replica)\n"
            "2:25: 'environments' must define at least one environment\n");
  EXPECT_EQ(Errors(serve + "    command: ./serve\n  environments:\n    a: { after: b }\n"
                           "    b: { after: a }\n"),
            "6:5: environments form a cycle through 'after': a -> b -> a\n"
            "7:5: environments form a cycle through 'after': b -> a -> b\n");
  EXPECT_EQ(Errors(serve + "    readiness: { period: 1s }\n  environments: { staging: }\n"),
            "4:5: 'serve' needs a 'command' (it gets the replica's port in $PORT and the model's "
            "files in $TAUON_MODEL_DIR)\n"
            "4:16: 'readiness' needs 'http' (the path to check)\n");
}

TEST(ParserTest, CanaryStrategy) {
  const std::string head =
      "jobs: { a: { steps: [ { run: x } ] } }\n"
      "deploy:\n"
      "  serve: { command: ./serve }\n"
      "  environments:\n"
      "    production:\n"
      "      strategy:\n"
      "        canary:\n";
  Pipeline p = ParseValid(head +
                          "          steps: [ { weight: 10, pause: 30s }, { weight: 50 } ]\n"
                          "          progress_deadline: 2m\n"
                          "          analysis:\n"
                          "            interval: 2s\n"
                          "            failure_limit: 2\n"
                          "            min_requests: 5\n"
                          "            checks: [ error_rate < 0.01, "
                          "\"canary.latency_p99_ms <= stable.latency_p99_ms * 1.2\" ]\n");
  ASSERT_TRUE(p.deploy && p.deploy->environments[0].canary);
  const CanaryStrategy& canary = *p.deploy->environments[0].canary;
  ASSERT_EQ(canary.steps.size(), 2u);
  EXPECT_EQ(canary.steps[0].weight, 10);
  EXPECT_EQ(canary.steps[0].pause, Duration(30'000));
  EXPECT_EQ(canary.steps[1].weight, 50);
  EXPECT_FALSE(canary.steps[1].pause);  // Until `tauon promote`.
  EXPECT_EQ(canary.progress_deadline, Duration(120'000));
  EXPECT_EQ(canary.analysis.interval, Duration(2000));
  EXPECT_EQ(canary.analysis.failure_limit, 2);
  EXPECT_EQ(canary.analysis.min_requests, 5);
  ASSERT_EQ(canary.analysis.checks.size(), 2u);
  EXPECT_EQ(canary.analysis.checks[1].expression.text(),
            "canary.latency_p99_ms <= stable.latency_p99_ms * 1.2");

  EXPECT_EQ(Errors(head + "          steps: [ { weight: 50 }, { weight: 20, pause: soon } ]\n"
                          "          analysis: { checks: [ eror_rate < 0.1, \"x +\" ] }\n"),
            "8:46: weights must grow from step to step: 20 after 50\n"
            "8:57: pause: invalid duration 'soon': expected a number followed by ms, s, m or h "
            "(e.g. 30s, 15m)\n"
            "9:33: unknown name 'eror_rate' in check (did you mean 'error_rate'?)\n"
            "9:54: invalid expression: unexpected end of expression, expected a value\n");
}

TEST(ParserTest, RollingStrategy) {
  const std::string head =
      "jobs: { a: { steps: [ { run: x } ] } }\n"
      "deploy:\n"
      "  serve: { command: ./serve }\n"
      "  environments:\n"
      "    staging:\n"
      "      strategy:\n";
  Pipeline p = ParseValid(head + "        rolling:\n");
  ASSERT_TRUE(p.deploy && p.deploy->environments[0].rolling);
  RollingStrategy rolling = *p.deploy->environments[0].rolling;
  // The defaults, 25% each: surge rounds up, unavailable down.
  EXPECT_EQ(rolling.max_surge.Of(3, true), 1);
  EXPECT_EQ(rolling.max_unavailable.Of(3, false), 0);
  EXPECT_EQ(rolling.max_unavailable.Of(8, false), 2);
  EXPECT_EQ(rolling.progress_deadline, Duration(300'000));

  p = ParseValid(
      head + "        rolling: { max_surge: 0, max_unavailable: 50%, progress_deadline: 1m }\n");
  rolling = *p.deploy->environments[0].rolling;
  EXPECT_EQ(rolling.max_surge.Of(4, true), 0);
  EXPECT_EQ(rolling.max_unavailable.Of(4, false), 2);
  EXPECT_EQ(rolling.progress_deadline, Duration(60'000));

  EXPECT_EQ(Errors(head + "        rolling: { max_surge: 0, max_unavailable: 0 }\n"),
            "7:18: 'rolling' needs max_surge or max_unavailable above 0: with both at 0 no "
            "replica can be replaced\n");
  EXPECT_EQ(Errors(head + "        rolling: { max_surge: 120%, max_unavailable: -1, surge: 1 }\n"),
            "7:31: max_surge must be a count or a percentage from 0% to 100%, got '120%'\n"
            "7:54: max_unavailable must be a whole number from 0 to 64, got '-1'\n"
            "7:58: unknown key 'surge' in 'rolling' (expected one of: max_surge, max_unavailable, "
            "progress_deadline)\n");
}

TEST(ParserTest, BlueGreenStrategy) {
  const std::string head =
      "jobs: { a: { steps: [ { run: x } ] } }\n"
      "deploy:\n"
      "  serve: { command: ./serve }\n"
      "  environments:\n"
      "    production:\n"
      "      port: 8080\n"
      "      strategy:\n";
  Pipeline p = ParseValid(head + "        blue_green:\n");
  ASSERT_TRUE(p.deploy && p.deploy->environments[0].blue_green);
  BlueGreenStrategy blue_green = *p.deploy->environments[0].blue_green;
  EXPECT_EQ(blue_green.preview_port, 0);
  EXPECT_TRUE(blue_green.preview);
  EXPECT_TRUE(blue_green.auto_promote);
  EXPECT_EQ(blue_green.scale_down_delay, Duration(30'000));
  EXPECT_FALSE(blue_green.pre_promotion);

  p = ParseValid(head +
                 "        blue_green:\n"
                 "          preview_port: 8081\n"
                 "          auto_promote: false\n"
                 "          scale_down_delay: 0\n"
                 "          pre_promotion: { interval: 1s, checks: [ error_rate == 0 ] }\n");
  blue_green = *p.deploy->environments[0].blue_green;
  EXPECT_EQ(blue_green.preview_port, 8081);
  EXPECT_FALSE(blue_green.auto_promote);
  EXPECT_EQ(blue_green.scale_down_delay, Duration(0));
  ASSERT_TRUE(blue_green.pre_promotion);
  EXPECT_EQ(blue_green.pre_promotion->interval, Duration(1000));
  EXPECT_EQ(blue_green.pre_promotion->min_requests, 0);  // The preview has no users.
  EXPECT_EQ(blue_green.pre_promotion->checks.size(), 1u);

  // DESIGN.md's spelling.
  p = ParseValid(head + "        blue_green: { preview: false, auto_promote: false, scale_down_delay: 30s }\n");
  EXPECT_FALSE(p.deploy->environments[0].blue_green->preview);
  EXPECT_EQ(Errors(head + "        blue_green: { preview: false, preview_port: 9000 }\n"),
            "8:21: 'preview_port' needs 'preview: true' (the default)\n");
  EXPECT_EQ(Errors(head + "        blue_green: { preview_port: 8080, auto_promote: yes, "
                          "pre_promotion: { checks: [ eror_rate > 1 ] } }\n"),
            "5:5: environment 'production' and the preview of environment 'production' both "
            "use port 8080\n"
            "8:57: auto_promote must be true or false, got 'yes'\n"
            "8:89: unknown name 'eror_rate' in check (did you mean 'error_rate'?)\n");
}

TEST(ParserTest, AnalysisProviders) {
  const std::string head =
      "jobs: { a: { steps: [ { run: x } ] } }\n"
      "deploy:\n"
      "  serve: { command: ./serve }\n"
      "  environments:\n"
      "    production:\n"
      "      strategy:\n"
      "        canary:\n"
      "          steps: [ { weight: 10 } ]\n"
      "          analysis:\n";
  // Checks may come before the providers whose metrics they read.
  Pipeline p = ParseValid(head +
                          "            checks: [ canary_5xx < 0.05, quality.accuracy >= 0.9 ]\n"
                          "            providers:\n"
                          "              - prometheus:\n"
                          "                  name: canary_5xx\n"
                          "                  url: http://127.0.0.1:9090\n"
                          "                  query: sum(rate(x[5s]))\n"
                          "                  check: canary_5xx <= stable.error_rate + 0.01\n"
                          "              - command: { name: quality, run: python3 eval.py, "
                          "timeout: 3s, on_error: fail }\n");
  ASSERT_TRUE(p.deploy && p.deploy->environments[0].canary);
  const AnalysisSpec& analysis = p.deploy->environments[0].canary->analysis;
  ASSERT_EQ(analysis.checks.size(), 2u);
  ASSERT_EQ(analysis.providers.size(), 2u);
  const AnalysisProvider& prometheus = analysis.providers[0];
  EXPECT_EQ(prometheus.kind, AnalysisProvider::Kind::kPrometheus);
  EXPECT_EQ(prometheus.name, "canary_5xx");
  EXPECT_EQ(prometheus.url, "http://127.0.0.1:9090");
  EXPECT_EQ(prometheus.query, "sum(rate(x[5s]))");
  ASSERT_TRUE(prometheus.check);
  EXPECT_EQ(prometheus.check->expression.text(), "canary_5xx <= stable.error_rate + 0.01");
  EXPECT_FALSE(prometheus.timeout);
  EXPECT_FALSE(prometheus.fail_on_error);
  EXPECT_EQ(prometheus.Describe(), "prometheus 'canary_5xx'");
  const AnalysisProvider& command = analysis.providers[1];
  EXPECT_EQ(command.kind, AnalysisProvider::Kind::kCommand);
  EXPECT_EQ(command.run, "python3 eval.py");
  EXPECT_EQ(command.timeout, Duration(3000));
  EXPECT_TRUE(command.fail_on_error);

  // An unnamed command's keys are known only when it runs: any name goes.
  p = ParseValid(head + "            checks: [ accuracy > 0.9 ]\n"
                        "            providers: [ { command: { run: ./eval } } ]\n");
  EXPECT_EQ(p.deploy->environments[0].canary->analysis.providers[0].Describe(), "command");

  EXPECT_EQ(Errors(head +
                   "            checks: [ quality.acc > 1, canary_5x < 1, zz > 1 ]\n"
                   "            providers:\n"
                   "              - prometheus: { name: canary_5xx, url: ftp://prom:9090, query: x }\n"
                   "              - prometheus: { name: error_rate, url: 'http://p/?a=1', querry: x }\n"
                   "              - command: { name: q, rn: x }\n"
                   "              - command: { name: quality, run: x, on_error: retry }\n"
                   "              - command: { name: quality, run: x, check: qualty.a > 1 }\n"
                   "              - shell: { run: x }\n"
                   "              - { command: { run: x }, prometheus: { name: y } }\n"
                   "              - prometheus: { url: 'https://' }\n"
                   "              - command: { name: 2x, run: x }\n"
                   "              - just a string\n"),
            "10:40: unknown name 'canary_5x' in check (did you mean 'canary_5xx'?)\n"
            "10:55: unknown name 'zz' in check (expected one of: error_rate, request_rate, "
            "requests, latency_p50_ms, latency_p95_ms, latency_p99_ms, mirror_agreement, with "
            "'canary.' or 'stable.' before them, or a provider's: canary_5xx, q.KEY, quality.KEY)\n"
            "12:54: 'url' must start with http:// or https://, got 'ftp://'\n"
            "13:29: 'prometheus' needs 'query' (PromQL)\n"
            "13:37: provider name 'error_rate' is taken by the router's metrics\n"
            "13:54: 'url' is the Prometheus server's base URL, without spaces, query or fragment "
            "(e.g. http://127.0.0.1:9090)\n"
            "13:71: unknown key 'querry' in 'prometheus' (did you mean 'query'?)\n"
            "14:26: 'command' needs 'run' (a command printing a JSON object of numbers)\n"
            "14:37: unknown key 'rn' in 'command' (expected one of: name, run, timeout, check, "
            "on_error)\n"
            "15:61: on_error must be 'inconclusive' or 'fail', got 'retry'\n"
            "16:17: two providers are named 'quality' (the other at line 15)\n"
            "16:58: unknown name 'qualty.a' in check (did you mean 'quality.a'?)\n"
            "17:17: unknown key 'shell' in a provider (expected one of: prometheus, command)\n"
            "18:17: a provider is one of prometheus or command, got 2 keys\n"
            "18:52: 'prometheus' needs 'url' (the Prometheus server), 'query' (PromQL)\n"
            "19:29: 'prometheus' needs 'name' (the metric checks read), 'query' (PromQL)\n"
            "19:36: 'url' needs a host (e.g. http://127.0.0.1:9090)\n"
            "20:34: invalid provider name '2x': use letters, digits and '_', not starting with a "
            "digit\n"
            "21:17: a provider must be a mapping, got 'just a string'\n");
  // A URL without a scheme is not quoted: it may hold a password.
  EXPECT_EQ(Errors(head + "            providers: [ { prometheus: { name: p, query: x, "
                          "url: 'admin:s3cret@prom:9090' } } ]\n"),
            "10:66: 'url' must start with http:// or https://, got no scheme\n");
}

TEST(ParserTest, ReportsQuarantine) {
  Pipeline p = ParseValid(R"(jobs:
  a:
    steps: [{ run: x }]
    reports: { junit: junit.xml, quarantine: true }
  b:
    steps: [{ run: x }]
    reports: { junit: junit.xml }
)");
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_TRUE(p.jobs[0].quarantine);
  EXPECT_FALSE(p.jobs[1].quarantine);
  EXPECT_EQ(Errors(R"(jobs:
  a:
    steps: [{ run: x }]
    reports: { quarantine: true }
  b:
    steps: [{ run: x }]
    reports: { junit: j.xml, quarantine: sometimes }
)"),
            "4:28: reports.quarantine needs reports.junit: flaky tests are known from the JUnit "
            "reports\n"
            "7:42: reports.quarantine must be true or false, got 'sometimes'\n");
}

}  // namespace
}  // namespace tauon::spec
