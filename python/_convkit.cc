// convkit's Python extension (nanobind): a thin layer over convkit.h. The
// Python package (python/convkit/__init__.py) checks argument types, ranks
// and shapes, names the argument at fault, and allocates outputs with numpy;
// this module builds descriptors, checks each buffer's element count against
// them once more, releases the GIL and calls convkit. A convkit error becomes
// ValueError (MemoryError for kOutOfMemory) carrying convkit's own message,
// which names the field at fault; nothing is written then.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "convkit/convkit.h"

namespace nb = nanobind;

namespace {

// Any C-contiguous float32 CPU array (the package makes sure of that).
using In = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using Out = nb::ndarray<float, nb::c_contig, nb::device::cpu>;

void Check(const convkit::Status& s) {
  if (s.ok()) return;
  if (s.code() == convkit::StatusCode::kOutOfMemory) throw std::bad_alloc();
  throw nb::value_error(s.message().c_str());
}

// The element count a buffer must have; a mismatch here is a bug in the
// Python layer (it checks shapes first), still reported, never run.
void Expect(const char* name, size_t have, int64_t want) {
  if (static_cast<int64_t>(have) != want) {
    throw nb::value_error(("convkit: " + std::string(name) + " has " +
                           std::to_string(have) + " elements, the descriptor needs " +
                           std::to_string(want))
                              .c_str());
  }
}

convkit::Options MakeOptions(const std::string& algorithm, const std::string& max_target,
                             int threads) {
  convkit::Options o;
  if (!convkit::ParseAlgorithm(algorithm, &o.algorithm)) {
    throw nb::value_error(("convkit: algorithm \"" + algorithm +
                           "\" is unknown (auto, depthwise, direct_gemm, im2col_gemm, "
                           "shifted_gemm, naive, nchw_gemm, nchw_pixel_gemm, sliding_window, "
                           "pixel_lanes)")
                              .c_str());
  }
  o.max_target = max_target;
  o.threads = threads;
  return o;
}

nb::dict PlanDict(const convkit::PlanInfo& p) {
  nb::dict d;
  d["algorithm"] = p.algorithm;
  d["kernel"] = p.kernel;
  d["target"] = p.target;
  d["mr"] = p.mr;
  d["tile_rows"] = p.tile_rows;
  d["nr"] = p.nr;
  d["mc"] = p.mc;
  d["kc"] = p.kc;
  d["nc"] = p.nc;
  d["out_h"] = p.out_h;
  d["out_w"] = p.out_w;
  d["threads"] = p.threads;
  d["workspace_bytes"] = p.workspace_bytes;
  return d;
}

const float* OptionalData(const nb::handle& h, const char* name, int64_t want) {
  if (h.is_none()) return nullptr;
  In a = nb::cast<In>(h);
  Expect(name, a.size(), want);
  return a.data();
}

// A prepared operator: the weights packed once (Conv2d::Create).
class Operator {
 public:
  Operator(const convkit::Conv2dDesc& desc, In w, nb::handle bias,
           const std::string& algorithm, const std::string& max_target, int threads) {
    const convkit::TensorSizes sizes = convkit::Sizes(desc);
    Check(convkit::Validate(desc));
    Expect("w", w.size(), sizes.weights);
    const float* b = OptionalData(bias, "bias", desc.out_channels);
    const convkit::Options o = MakeOptions(algorithm, max_target, threads);
    convkit::Status s;
    {
      nb::gil_scoped_release release;
      s = convkit::Conv2d::Create(desc, w.data(), b, o, &op_);
    }
    Check(s);
  }

  // The operator keeps one workspace, grown to the largest a call has
  // needed, so that calls allocate nothing (as convkit-perf's); a call that
  // finds it in use by another Python thread lets Forward provide its own.
  void Forward(In x, Out y, int threads) const {
    const convkit::TensorSizes sizes = convkit::Sizes(op_->desc());
    Expect("x", x.size(), sizes.input);
    Expect("out", y.size(), sizes.output);
    convkit::Status s;
    {
      nb::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(workspace_mutex_, std::try_to_lock);
      if (lock.owns_lock()) {
        const size_t bytes = op_->WorkspaceBytes(threads);
        if (workspace_.size() < bytes) workspace_.resize(bytes);
        s = op_->Forward(x.data(), y.data(), workspace_.data(), workspace_.size(), threads);
      } else {
        s = op_->Forward(x.data(), y.data(), threads);
      }
    }
    Check(s);
  }

  nb::dict Plan() const { return PlanDict(op_->info()); }

  // Seconds per call of `reps` back-to-back Forward calls timed in C++ with
  // the GIL released: the C++ side of the Python-overhead measurement
  // (examples/python_perf.py).
  double TimeForward(In x, Out y, int reps, int threads) const {
    const convkit::TensorSizes sizes = convkit::Sizes(op_->desc());
    Expect("x", x.size(), sizes.input);
    Expect("out", y.size(), sizes.output);
    convkit::Status s;
    double seconds = 0;
    {
      nb::gil_scoped_release release;
      const auto start = std::chrono::steady_clock::now();
      std::vector<char> workspace(op_->WorkspaceBytes(threads));
      for (int i = 0; i < reps && s.ok(); ++i) {
        s = op_->Forward(x.data(), y.data(), workspace.data(), workspace.size(), threads);
      }
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    Check(s);
    return seconds / (reps > 0 ? reps : 1);
  }

 private:
  std::unique_ptr<convkit::Conv2d> op_;
  mutable std::mutex workspace_mutex_;
  mutable std::vector<char> workspace_;  // guarded by workspace_mutex_
};

}  // namespace

NB_MODULE(_convkit, m) {
  m.doc() = "convkit's C++ core (use the convkit package, not this module)";

  nb::enum_<convkit::Layout>(m, "Layout")
      .value("NHWC", convkit::Layout::kNhwc)
      .value("NCHW", convkit::Layout::kNchw);
  nb::enum_<convkit::WeightsLayout>(m, "WeightsLayout")
      .value("HWIO", convkit::WeightsLayout::kHwio)
      .value("OIHW", convkit::WeightsLayout::kOihw);

  nb::class_<convkit::Conv2dDesc>(m, "Conv2dDesc")
      .def(nb::init<>())
      .def_rw("batch", &convkit::Conv2dDesc::batch)
      .def_rw("in_h", &convkit::Conv2dDesc::in_h)
      .def_rw("in_w", &convkit::Conv2dDesc::in_w)
      .def_rw("in_channels", &convkit::Conv2dDesc::in_channels)
      .def_rw("out_channels", &convkit::Conv2dDesc::out_channels)
      .def_rw("kernel_h", &convkit::Conv2dDesc::kernel_h)
      .def_rw("kernel_w", &convkit::Conv2dDesc::kernel_w)
      .def_rw("stride_h", &convkit::Conv2dDesc::stride_h)
      .def_rw("stride_w", &convkit::Conv2dDesc::stride_w)
      .def_rw("pad_top", &convkit::Conv2dDesc::pad_top)
      .def_rw("pad_bottom", &convkit::Conv2dDesc::pad_bottom)
      .def_rw("pad_left", &convkit::Conv2dDesc::pad_left)
      .def_rw("pad_right", &convkit::Conv2dDesc::pad_right)
      .def_rw("dilation_h", &convkit::Conv2dDesc::dilation_h)
      .def_rw("dilation_w", &convkit::Conv2dDesc::dilation_w)
      .def_rw("groups", &convkit::Conv2dDesc::groups)
      .def_rw("has_bias", &convkit::Conv2dDesc::has_bias)
      .def_rw("has_sum", &convkit::Conv2dDesc::has_sum)
      .def_rw("sum_scale", &convkit::Conv2dDesc::sum_scale)
      .def_rw("output_min", &convkit::Conv2dDesc::output_min)
      .def_rw("output_max", &convkit::Conv2dDesc::output_max)
      .def_rw("layout", &convkit::Conv2dDesc::layout)
      .def_rw("weights_layout", &convkit::Conv2dDesc::weights_layout)
      .def("spec", [](const convkit::Conv2dDesc& d) { return convkit::FormatShapeSpec(d); });

  nb::class_<convkit::ConvTranspose2dDesc>(m, "ConvTranspose2dDesc")
      .def(nb::init<>())
      .def_rw("batch", &convkit::ConvTranspose2dDesc::batch)
      .def_rw("in_h", &convkit::ConvTranspose2dDesc::in_h)
      .def_rw("in_w", &convkit::ConvTranspose2dDesc::in_w)
      .def_rw("in_channels", &convkit::ConvTranspose2dDesc::in_channels)
      .def_rw("out_channels", &convkit::ConvTranspose2dDesc::out_channels)
      .def_rw("kernel_h", &convkit::ConvTranspose2dDesc::kernel_h)
      .def_rw("kernel_w", &convkit::ConvTranspose2dDesc::kernel_w)
      .def_rw("stride_h", &convkit::ConvTranspose2dDesc::stride_h)
      .def_rw("stride_w", &convkit::ConvTranspose2dDesc::stride_w)
      .def_rw("pad_top", &convkit::ConvTranspose2dDesc::pad_top)
      .def_rw("pad_bottom", &convkit::ConvTranspose2dDesc::pad_bottom)
      .def_rw("pad_left", &convkit::ConvTranspose2dDesc::pad_left)
      .def_rw("pad_right", &convkit::ConvTranspose2dDesc::pad_right)
      .def_rw("output_pad_h", &convkit::ConvTranspose2dDesc::output_pad_h)
      .def_rw("output_pad_w", &convkit::ConvTranspose2dDesc::output_pad_w)
      .def_rw("dilation_h", &convkit::ConvTranspose2dDesc::dilation_h)
      .def_rw("dilation_w", &convkit::ConvTranspose2dDesc::dilation_w)
      .def_rw("groups", &convkit::ConvTranspose2dDesc::groups)
      .def_rw("has_bias", &convkit::ConvTranspose2dDesc::has_bias)
      .def_rw("layout", &convkit::ConvTranspose2dDesc::layout)
      .def_rw("weights_layout", &convkit::ConvTranspose2dDesc::weights_layout);

  // Validates and returns (out_h, out_w).
  m.def("output_shape", [](const convkit::Conv2dDesc& d) {
    int64_t oh = 0, ow = 0;
    Check(convkit::OutputShape(d, &oh, &ow));
    return nb::make_tuple(oh, ow);
  });
  m.def("transposed_output_shape", [](const convkit::ConvTranspose2dDesc& t) {
    convkit::Conv2dDesc c;
    Check(convkit::TransposedAsConv(t, &c));
    return nb::make_tuple(c.in_h, c.in_w);
  });

  m.def("forward",
        [](const convkit::Conv2dDesc& d, In x, In w, nb::handle bias, Out y,
           const std::string& algorithm, const std::string& max_target, int threads) {
          Check(convkit::Validate(d));
          const convkit::TensorSizes sizes = convkit::Sizes(d);
          Expect("x", x.size(), sizes.input);
          Expect("w", w.size(), sizes.weights);
          Expect("out", y.size(), sizes.output);
          const float* b = OptionalData(bias, "bias", d.out_channels);
          const convkit::Options o = MakeOptions(algorithm, max_target, threads);
          convkit::Status s;
          {
            nb::gil_scoped_release release;
            s = convkit::Conv2dForward(d, x.data(), w.data(), b, y.data(), o);
          }
          Check(s);
        },
        nb::arg("desc"), nb::arg("x"), nb::arg("w"), nb::arg("bias").none(), nb::arg("out"),
        nb::arg("algorithm"), nb::arg("max_target"), nb::arg("threads"));

  m.def("backward_data", [](const convkit::Conv2dDesc& d, In dy, In w, Out dx,
                            const std::string& max_target, int threads) {
    Check(convkit::Validate(d));
    const convkit::TensorSizes sizes = convkit::Sizes(d);
    Expect("dy", dy.size(), sizes.output);
    Expect("w", w.size(), sizes.weights);
    Expect("dx", dx.size(), sizes.input);
    const convkit::Options o = MakeOptions("auto", max_target, threads);
    convkit::Status s;
    {
      nb::gil_scoped_release release;
      s = convkit::Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), o);
    }
    Check(s);
  });

  m.def("backward_weights", [](const convkit::Conv2dDesc& d, In x, In dy, Out dw,
                               nb::handle dbias, const std::string& max_target, int threads) {
    Check(convkit::Validate(d));
    const convkit::TensorSizes sizes = convkit::Sizes(d);
    Expect("x", x.size(), sizes.input);
    Expect("dy", dy.size(), sizes.output);
    Expect("dw", dw.size(), sizes.weights);
    float* db = nullptr;
    Out dbias_array;
    if (!dbias.is_none()) {
      dbias_array = nb::cast<Out>(dbias);
      Expect("dbias", dbias_array.size(), d.out_channels);
      db = dbias_array.data();
    }
    const convkit::Options o = MakeOptions("auto", max_target, threads);
    convkit::Status s;
    {
      nb::gil_scoped_release release;
      s = convkit::Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(), db, o);
    }
    Check(s);
  }, nb::arg("desc"), nb::arg("x"), nb::arg("dy"), nb::arg("dw"), nb::arg("dbias").none(),
     nb::arg("max_target"), nb::arg("threads"));

  m.def("conv_transpose", [](const convkit::ConvTranspose2dDesc& t, In x, In w,
                             nb::handle bias, Out y, const std::string& max_target,
                             int threads) {
    convkit::Conv2dDesc c;
    Check(convkit::TransposedAsConv(t, &c));
    const convkit::TensorSizes sizes = convkit::Sizes(c);  // c maps y -> x
    Expect("x", x.size(), sizes.output);
    Expect("w", w.size(), sizes.weights);
    Expect("out", y.size(), sizes.input);
    const float* b = OptionalData(bias, "bias", t.out_channels);
    const convkit::Options o = MakeOptions("auto", max_target, threads);
    convkit::Status s;
    {
      nb::gil_scoped_release release;
      s = convkit::ConvTranspose2d(t, x.data(), w.data(), b, y.data(), o);
    }
    Check(s);
  }, nb::arg("desc"), nb::arg("x"), nb::arg("w"), nb::arg("bias").none(), nb::arg("out"),
     nb::arg("max_target"), nb::arg("threads"));

  m.def("plan", [](const convkit::Conv2dDesc& d, const std::string& algorithm,
                   const std::string& max_target, int threads) {
    convkit::PlanInfo info;
    Check(convkit::QueryPlan(d, MakeOptions(algorithm, max_target, threads), &info));
    return PlanDict(info);
  });

  m.def("compiled_targets", &convkit::CompiledTargets);
  m.def("supported_targets", &convkit::SupportedTargets);
  m.def("version", []() { return std::string(convkit::Version()); });

  nb::class_<Operator>(m, "Operator")
      .def(nb::init<const convkit::Conv2dDesc&, In, nb::handle, const std::string&,
                    const std::string&, int>(),
           nb::arg("desc"), nb::arg("w"), nb::arg("bias").none(), nb::arg("algorithm"),
           nb::arg("max_target"), nb::arg("threads"))
      .def("forward", &Operator::Forward)
      .def("plan", &Operator::Plan)
      .def("time_forward", &Operator::TimeForward);
}
