// Runs `nasq search` with every strategy on a tiny space and a small
// Fashion-MNIST slice, checks the run directory, and resumes a search
// killed with SIGKILL.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/hardware/csv_rows.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tiny_stack.hpp"

namespace fs = std::filesystem;
using nasq::test::read_text;
using nasq::test::kTinyStack;
using nasq::test::run_command;

namespace {



std::size_t line_count(const fs::path& file) {
  const std::string text = read_text(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string nasq_binary() { return NASQ_BINARY_DIR "/bin/nasq"; }

}  // namespace

TEST_CASE("every strategy runs from one key") {
  nasq::test::write_text("tiny.toml", kTinyStack);
  for (const std::string strategy : {"reinforce-hybrid", "gumbel-darts", "sequential", "bits-only",
                                     "nas-only", "random", "evolution"}) {
    const std::string run = "run-" + strategy;
    fs::remove_all(run);
    const auto result = run_command(nasq::test::nasq_command() + " search tiny.toml --set search.plugin=" +
                                    strategy + " --set search.bits-only.expansion=3 --run-dir " + run);
    INFO(strategy << ": " << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(fs::exists(fs::path(run) / "arch.json"));
    CHECK(fs::exists(fs::path(run) / "config.toml"));
    CHECK(fs::exists(fs::path(run) / "nasq.log"));
    CHECK(fs::exists(fs::path(run) / "checkpoint.pt"));
    CHECK(line_count(fs::path(run) / "metrics.csv") == 4);
    CHECK(line_count(fs::path(run) / "probabilities.jsonl") == 3);
    CHECK(result.out.find("architecture:") != std::string::npos);
    if (strategy == "random" || strategy == "evolution") CHECK(fs::exists(fs::path(run) / "pareto.json"));
    // Data loading time is part of each epoch's wall time.
    const nasq::test::CsvTable metrics((fs::path(run) / "metrics.csv").string());
    for (const auto& row : metrics.rows()) {
      CHECK(row.real("data_s") > 0.0);
      CHECK(row.real("data_s") < row.real("wall_s"));
    }
  }
}

TEST_CASE("search rejects a budget below the space minimum") {
  nasq::test::write_text("tiny.toml", kTinyStack);
  const auto result = run_command(nasq::test::nasq_command() +
                                  " search tiny.toml --set 'search.energy_budget=\"0.0001 mJ\"' --run-dir low");
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("below the minimum") != std::string::npos);
  CHECK(result.err.find("--set search.energy_budget") != std::string::npos);
}

TEST_CASE("zero tau_min is a config error") {
  nasq::test::write_text("tiny.toml", kTinyStack);
  const auto result = run_command(nasq::test::nasq_command() +
                                  " search tiny.toml --set search.plugin=gumbel-darts "
                                  "--set search.gumbel-darts.tau_min=0 --run-dir tau");
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("tau_min") != std::string::npos);
}

TEST_CASE("killed search resumes to the identical result") {
  nasq::test::write_text("tiny.toml", kTinyStack);
  const std::string settings = " --set run.deterministic=true --set search.checkpoint_every=1";
  fs::remove_all("straight");
  const auto straight = run_command(nasq::test::nasq_command() + " search tiny.toml" + settings +
                                    " --run-dir straight");
  REQUIRE(straight.exit_code == 0);

  // The tiny stack has 1 warm-up and 2 search epochs of 4 steps. With
  // checkpoint_every = 1, checkpoint.pt is written after steps 1 to 3 and at
  // the end of each epoch, so its 1st write follows warm-up step 1 and its
  // 6th write follows step 2 of the first search epoch. Each case kills the
  // search right after one of those writes.
  struct KillPoint {
    std::string name;
    int checkpoint_writes;
    // Start of the resume log line (1-based epoch). The step is left out so
    // that a kill delayed by a loaded machine still tests the same epoch.
    std::string resumed_at;
  };
  const std::vector<KillPoint> kill_points = {
      {"mid warm-up", 1, "at epoch 1, step "},
      {"mid first search epoch", 6, "at epoch 2, step "},
  };

  for (const KillPoint& point : kill_points) {
    CAPTURE(point.name);
    const fs::path run = "killed";
    fs::remove_all(run);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      ::execl(nasq_binary().c_str(), "nasq", "search", "tiny.toml", "--set",
              "run.deterministic=true", "--set", "search.checkpoint_every=1", "--run-dir",
              run.c_str(), nullptr);
      ::_exit(127);
    }
    // A search step takes far longer than the 2 ms poll interval, so the poll
    // reads a new modification time after each write.
    int writes = 0;
    std::optional<fs::file_time_type> last_write;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (writes < point.checkpoint_writes && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::error_code error;
      const fs::file_time_type written = fs::last_write_time(run / "checkpoint.pt", error);
      if (error || written == last_write) continue;
      last_write = written;
      ++writes;
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(writes == point.checkpoint_writes);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE_FALSE(fs::exists(run / "arch.json"));

    const auto resumed = run_command(nasq::test::nasq_command() + " search tiny.toml" + settings +
                                     " --resume " + run.string());
    INFO(resumed.err);
    REQUIRE(resumed.exit_code == 0);
    CHECK(resumed.err.find("resumed killed " + point.resumed_at) != std::string::npos);
    CHECK(read_text(run / "arch.json") == read_text("straight/arch.json"));
    CHECK(read_text(run / "probabilities.jsonl") == read_text("straight/probabilities.jsonl"));
    CHECK(line_count(run / "metrics.csv") == line_count("straight/metrics.csv"));
  }
}

TEST_CASE("resume with another config is refused") {
  nasq::test::write_text("tiny.toml", kTinyStack);
  fs::remove_all("changed");
  REQUIRE(run_command(nasq::test::nasq_command() + " search tiny.toml --run-dir changed").exit_code == 0);
  const auto result = run_command(nasq::test::nasq_command() +
                                  " search tiny.toml --set search.energy_lambda=2.0 --resume changed");
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("differ") != std::string::npos);
  CHECK(result.err.find("energy_lambda = 2") != std::string::npos);
}
