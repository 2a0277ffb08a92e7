// The HTML report of one run directory.
#pragma once

#include <string>

#include "core/report/run_directory.hpp"

namespace nasq::report {

// Renders a self-contained HTML page with the results table (model,
// precision, top-1 and top-5 error, model size, energy, latency) and the
// block drawing. Then come the search curves of metrics.csv, the final
// training curves of train_metrics.csv, the energy per layer and the run
// details. Missing fields print as an em dash, and a missing file gets a
// note instead of its charts.
std::string render_run_report(const RunDirectory& run);

}  // namespace nasq::report
