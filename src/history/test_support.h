// Test support for the history tests: one execution of test `suite.NAME`
// of job "test".
#pragma once

#include <string>

#include "history/test_history.h"

namespace tauon::history::test_support {

inline TestExecution Exec(int64_t run, int attempt, const std::string& commit,
                          const std::string& name, const std::string& status) {
  TestExecution e;
  e.run_id = run;
  e.attempt = attempt;
  e.commit = commit;
  e.job = "test";
  e.classname = "suite";
  e.name = name;
  e.status = status;
  e.duration_ms = 100;
  return e;
}

}  // namespace tauon::history::test_support
