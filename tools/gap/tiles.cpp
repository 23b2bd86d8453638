// Tile, wave and expert-padding factors (formulas in tiles.h).
#include "tiles.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace xk::gap {
namespace {

// ggml's MMQ picks the smallest token tile (a multiple of 8 up to tile_m) that needs the
// fewest tiles (ggml-cuda/mmq.cuh, the mmq_x loop), so tokens are spread evenly over
// ceil(M / tile_m) tiles and padded only to the next multiple of 8.
double token_tile(double tokens, int tile_m) {
  const double tiles_m = std::ceil(tokens / tile_m);
  return std::min<double>(tile_m, 8 * std::ceil(tokens / tiles_m / 8));
}

// moe_wave_factor for tiles already counted.
double expert_wave(const ExpertTiles& t, double n_rows, int tile_n, double units) {
  const double tn = std::ceil(n_rows / tile_n);
  const double tiles = t.col_tiles * tn;
  const double row_pad = n_rows / (tn * tile_n);
  if (units <= 1) return t.pad * row_pad;  // stream-K: the last wave's K loop is shared out
  // `tiles` is an expectation, not a count: a whole wave is not started for its rounding.
  const double waves = std::max(1.0, std::ceil(tiles / units - 1e-6));
  return t.pad * row_pad * tiles / (waves * units);
}

// Calls f(c, P(c)) for c = 1..tokens, c ~ Binomial(tokens, p): the tokens one expert gets
// when each of `tokens` tokens picks it with probability p.
template <typename F>
void for_each_expert_load(double tokens, double p, F&& f) {
  const int64_t n = static_cast<int64_t>(std::llround(tokens));
  if (p >= 1.0) {
    f(static_cast<double>(n), 1.0);
    return;
  }
  if (p <= 0.0) return;
  const double lp = std::log(p), lq = std::log1p(-p), lfact_n = std::lgamma(n + 1.0);
  for (int64_t c = 1; c <= n; ++c) {
    const double lpmf = lfact_n - std::lgamma(c + 1.0) - std::lgamma(n - c + 1.0) +
                        static_cast<double>(c) * lp + static_cast<double>(n - c) * lq;
    f(static_cast<double>(c), std::exp(lpmf));
  }
}

}  // namespace

double wave_factor(double m_tokens, double n_rows, int tile_m, int tile_n, double units) {
  tile_m = static_cast<int>(token_tile(m_tokens, tile_m));
  const double tm = std::ceil(m_tokens / tile_m), tn = std::ceil(n_rows / tile_n);
  const double tiles = tm * tn;
  const double pad = (m_tokens * n_rows) / (tiles * tile_m * tile_n);
  const double waves = std::ceil(tiles / std::max(1.0, units));
  return pad * tiles / (waves * std::max(1.0, units));
}

bool gemv_rows(double tokens) { return tokens <= 8; }

ExpertGemm expert_gemm(double tokens, double used, double experts, double n_rows, const InstrPath& path,
                       double units) {
  ExpertGemm g;
  g.x = tokens * used / std::max(1.0, experts);
  if (gemv_rows(tokens)) return g;
  if (path.per_expert) {
    g = expert_loop_gemm(tokens, used, experts, n_rows, path, units, 0, tokens + 1);
    g.launches += kExpertLoopFixedLaunches;
    return g;
  }
  if (path.stream_k) units = 1.0;
  if (path.family == "float") {
    g.wave = wave_factor(std::max(1.0, g.x), n_rows, path.tile_m, path.tile_n,
                         units / std::max(1.0, std::min(experts, tokens * used)));
  } else {
    // ggml's ncols_opt (paths.h, InstrPath::expert_width_tile): one expert's average share.
    const double share = std::ceil(tokens * used / std::max(1.0, experts));
    const ExpertTiles t =
        expert_tiles(tokens, used, experts, path.tile_m, path.expert_width_tile ? share : 0);
    g.x = t.tile;
    g.wave = expert_wave(t, n_rows, path.tile_n, units);
  }
  return g;
}

ExpertTiles expert_tiles(double tokens, double used, double experts, int tile_m, double tile_for) {
  ExpertTiles t;
  t.tile = token_tile(tile_for > 0 ? tile_for : tokens, tile_m);
  double per_expert = 0;  // E[ceil(c / tile)], c ~ Binomial(n, p)
  for_each_expert_load(tokens, std::clamp(used / std::max(1.0, experts), 0.0, 1.0),
                       [&](double c, double pc) { per_expert += pc * std::ceil(c / t.tile); });
  t.col_tiles = per_expert * experts;
  t.pad = t.col_tiles > 0 ? tokens * used / (t.col_tiles * t.tile) : 1.0;
  return t;
}

ExpertGemm expert_loop_gemm(double tokens, double used, double experts, double n_rows, const InstrPath& path,
                            double units, double c_min, double c_max) {
  ExpertGemm g;
  const double tn = std::ceil(n_rows / path.tile_n);
  double useful = 0, occupied = 0, hit = 0, tile_sum = 0, pairs = 0;
  for_each_expert_load(tokens, std::clamp(used / std::max(1.0, experts), 0.0, 1.0), [&](double c, double pc) {
    if (c < c_min || c >= c_max) return;
    const double t = token_tile(c, path.tile_m), tiles = tn * std::ceil(c / t);
    const double waves = std::ceil(tiles / std::max(1.0, units));
    useful += pc * c * n_rows;
    occupied += pc * waves * std::max(1.0, units) * t * path.tile_n;
    hit += pc;
    tile_sum += pc * t;
    pairs += pc * c;
  });
  g.x = hit > 0 ? tile_sum / hit : 1.0;
  g.wave = occupied > 0 ? useful / occupied : 1.0;
  g.hit = hit * experts;
  g.share = tokens * used > 0 ? pairs * experts / (tokens * used) : 0.0;
  g.launches = 2 * g.hit;
  return g;
}

double moe_wave_factor(double tokens, double used, double experts, double n_rows, int tile_m, int tile_n,
                       double units) {
  return expert_wave(expert_tiles(tokens, used, experts, tile_m), n_rows, tile_n, units);
}

}  // namespace xk::gap
