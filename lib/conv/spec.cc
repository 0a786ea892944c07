// The one-line shape syntax (documented in convkit.h), shared by the tests,
// the corpus files and convkit-perf.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <fstream>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "lib/conv/spec_file.h"

namespace convkit {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' ||
                   s[e - 1] == '\n')) {
    --e;
  }
  return s.substr(b, e - b);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos
                                                             : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

bool ParseInt(const std::string& text, int64_t* value) {
  const std::string t = Trim(text);
  if (t.empty()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(t[i] >= '0' && t[i] <= '9') && !(i == 0 && t[i] == '-')) return false;
  }
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') return false;
  *value = v;
  return true;
}

// A float ("0.5", "-6", "inf"); NaN is left for Validate to reject by name.
bool ParseFloat(const std::string& text, float* value) {
  const std::string t = Trim(text);
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const float v = std::strtof(t.c_str(), &end);
  if (end == nullptr || end == t.c_str() || *end != '\0') return false;
  // ERANGE: overflow (+-HUGE_VALF) is an error; underflow to a subnormal
  // (which FormatShapeSpec writes for a subnormal bound) is the value.
  if (errno == ERANGE && std::isinf(v)) return false;
  *value = v;
  return true;
}

Status Bad(const std::string& field, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, field,
                "convkit: shape spec field \"" + field + "\" " + why);
}

// "A" or "AxB" (height x width).
bool ParsePair(const std::string& v, int64_t* a, int64_t* b) {
  const std::vector<std::string> parts = Split(v, 'x');
  if (parts.size() == 1) return ParseInt(parts[0], a) && ParseInt(parts[0], b);
  return parts.size() == 2 && ParseInt(parts[0], a) && ParseInt(parts[1], b);
}

}  // namespace

Status ParseShapeSpec(const std::string& spec, Conv2dDesc* desc) {
  if (desc == nullptr) return Bad("desc", "output pointer is null");
  Conv2dDesc d;
  bool seen_h = false, seen_w = false, seen_ci = false, seen_co = false,
       seen_k = false;
  std::vector<std::string> seen;
  const std::string text = Trim(spec);
  if (text.empty()) return Bad("spec", "is empty");
  for (const std::string& raw : Split(text, ',')) {
    const std::string item = Trim(raw);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return Bad(item.empty() ? "spec" : item, "is not of the form key=value");
    }
    const std::string key = Trim(item.substr(0, eq));
    const std::string value = Trim(item.substr(eq + 1));
    for (const std::string& k : seen) {
      if (k == key) return Bad(key, "is given twice");
    }
    seen.push_back(key);
    const std::string bad_value = "has a malformed value \"" + value + "\"";
    if (key == "n") {
      if (!ParseInt(value, &d.batch)) return Bad(key, bad_value);
    } else if (key == "h") {
      if (!ParseInt(value, &d.in_h)) return Bad(key, bad_value);
      seen_h = true;
    } else if (key == "w") {
      if (!ParseInt(value, &d.in_w)) return Bad(key, bad_value);
      seen_w = true;
    } else if (key == "ci") {
      if (!ParseInt(value, &d.in_channels)) return Bad(key, bad_value);
      seen_ci = true;
    } else if (key == "co") {
      if (!ParseInt(value, &d.out_channels)) return Bad(key, bad_value);
      seen_co = true;
    } else if (key == "k") {
      if (!ParsePair(value, &d.kernel_h, &d.kernel_w)) {
        return Bad(key, bad_value + " (want K or KHxKW)");
      }
      seen_k = true;
    } else if (key == "s") {
      if (!ParsePair(value, &d.stride_h, &d.stride_w)) {
        return Bad(key, bad_value + " (want S or SHxSW)");
      }
    } else if (key == "d") {
      if (!ParsePair(value, &d.dilation_h, &d.dilation_w)) {
        return Bad(key, bad_value + " (want D or DHxDW)");
      }
    } else if (key == "p") {
      const std::vector<std::string> sides = Split(value, ':');
      bool ok = false;
      if (sides.size() == 4) {
        ok = ParseInt(sides[0], &d.pad_top) && ParseInt(sides[1], &d.pad_bottom) &&
             ParseInt(sides[2], &d.pad_left) && ParseInt(sides[3], &d.pad_right);
      } else if (sides.size() == 1) {
        ok = ParsePair(value, &d.pad_top, &d.pad_left);
        d.pad_bottom = d.pad_top;
        d.pad_right = d.pad_left;
      }
      if (!ok) return Bad(key, bad_value + " (want P, PHxPW or T:B:L:R)");
    } else if (key == "g") {
      if (!ParseInt(value, &d.groups)) return Bad(key, bad_value);
    } else if (key == "xps") {
      if (!ParseInt(value, &d.in_pixel_stride)) return Bad(key, bad_value);
    } else if (key == "yps") {
      if (!ParseInt(value, &d.out_pixel_stride)) return Bad(key, bad_value);
    } else if (key == "bias") {
      int64_t b = 0;
      if (!ParseInt(value, &b) || (b != 0 && b != 1)) {
        return Bad(key, bad_value + " (want 0 or 1)");
      }
      d.has_bias = b == 1;
    } else if (key == "layout") {
      if (value == "nhwc") {
        d.layout = Layout::kNhwc;
      } else if (value == "nchw") {
        d.layout = Layout::kNchw;
      } else {
        return Bad(key, bad_value + " (want nhwc or nchw)");
      }
    } else if (key == "weights") {
      if (value == "hwio") {
        d.weights_layout = WeightsLayout::kHwio;
      } else if (value == "oihw") {
        d.weights_layout = WeightsLayout::kOihw;
      } else {
        return Bad(key, bad_value + " (want hwio or oihw)");
      }
    } else if (key == "sum" || key == "min" || key == "max") {
      float f = 0.0f;
      if (!ParseFloat(value, &f)) return Bad(key, bad_value + " (want a number)");
      if (key == "sum") {
        d.has_sum = true;
        d.sum_scale = f;
      } else if (key == "min") {
        d.output_min = f;
      } else {
        d.output_max = f;
      }
    } else {
      return Bad(key,
                 "is not a known field (n, h, w, ci, co, k, s, p, d, g, bias, sum, min, max, "
                 "layout, weights, xps, yps)");
    }
  }
  if (!seen_h) return Bad("h", "is required");
  if (!seen_w) return Bad("w", "is required");
  if (!seen_ci) return Bad("ci", "is required");
  if (!seen_co) return Bad("co", "is required");
  if (!seen_k) return Bad("k", "is required");
  *desc = d;
  return Status();
}

std::string FormatShapeSpec(const Conv2dDesc& d) {
  auto s = [](int64_t v) { return std::to_string(v); };
  std::string out = "n=" + s(d.batch) + ",h=" + s(d.in_h) + ",w=" + s(d.in_w) +
                    ",ci=" + s(d.in_channels) + ",co=" + s(d.out_channels) +
                    ",k=" + s(d.kernel_h) + "x" + s(d.kernel_w) + ",s=" +
                    s(d.stride_h) + "x" + s(d.stride_w) + ",p=" + s(d.pad_top) +
                    ":" + s(d.pad_bottom) + ":" + s(d.pad_left) + ":" +
                    s(d.pad_right) + ",d=" + s(d.dilation_h) + "x" +
                    s(d.dilation_w) + ",g=" + s(d.groups);
  if (d.has_bias) out += ",bias=1";
  auto f = [](float v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
    return std::string(buf);
  };
  if (d.layout == Layout::kNchw) out += ",layout=nchw";
  if (d.weights_layout == WeightsLayout::kOihw) out += ",weights=oihw";
  if (d.in_pixel_stride != 0) out += ",xps=" + std::to_string(d.in_pixel_stride);
  if (d.out_pixel_stride != 0) out += ",yps=" + std::to_string(d.out_pixel_stride);
  if (d.has_sum) out += ",sum=" + f(d.sum_scale);
  if (d.output_min > -std::numeric_limits<float>::infinity()) out += ",min=" + f(d.output_min);
  if (d.output_max < std::numeric_limits<float>::infinity()) out += ",max=" + f(d.output_max);
  return out;
}

bool ReadSpecLines(const std::string& path, std::vector<SpecLine>* lines) {
  std::ifstream in(path);
  if (!in.good()) return false;
  lines->clear();
  std::string raw, comment;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const std::string text = Trim(raw);
    if (text.empty()) continue;
    if (text[0] == '#') {
      comment = Trim(text.substr(1));
      continue;
    }
    lines->push_back({text, comment, number});
    comment.clear();
  }
  return true;
}

}  // namespace convkit
