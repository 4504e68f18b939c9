// Event-driven propagation on CPU as XLA FFI handlers (see jaxsnn/native/__init__.py).
//
// drive[b, j] = sum over i with s[b, i] != 0 of s[b, i] * w[b', i, j]
//
// One call handles a whole batch: `s` is (L, n_pre) with its leading dimensions flattened
// to L; the weights (and, for sparse storage, the targets) are either shared, or batched
// by a leading factor of L (vmap puts its axes in front, so a batch of weights indexes
// the outer axes of the spikes: row b uses weight set b / (L / L_w)).
// Only the rows of neurons that spiked are read: the work is proportional to the spikes.

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// Number of leading "batch" entries of a buffer whose trailing `tail` dimensions are the
// per-trial array.
int64_t Leading(const ffi::AnyBuffer& b, int tail) {
  auto dims = b.dimensions();
  int64_t n = 1;
  for (int64_t d = 0; d + tail < static_cast<int64_t>(dims.size()); ++d) n *= dims[d];
  return n;
}

int64_t Dim(const ffi::AnyBuffer& b, int from_end) {
  auto dims = b.dimensions();
  return dims[dims.size() - from_end];
}

// Calls f(i, s[i]) for every nonzero s[i], i < n. Most of a step's signal is zero, and a
// branch per entry costs ~2.5 cycles (0.24 ms per step for a 256-trial decision-1k batch,
// measured), so blocks of 16 all-zero entries are skipped after one vectorised OR of their
// bits (the sign bit left out: -0.0 is zero, as for `x == 0`).
template <typename T, typename F>
inline void ForEachNonzero(const T* s, int64_t n, F&& f) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr int64_t kBlock = 16;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t end = i0 + kBlock < n ? i0 + kBlock : n;
    U bits = 0;
    for (int64_t i = i0; i < end; ++i) {
      U u;
      std::memcpy(&u, s + i, sizeof(U));
      bits |= u;
    }
    if (static_cast<U>(bits << 1) == 0) continue;
    for (int64_t i = i0; i < end; ++i) {
      if (s[i] != T(0)) f(i, s[i]);
    }
  }
}

template <typename T>
void Ell(const T* s, const T* w, const int32_t* tg, T* out, int64_t n_batch, int64_t n_pre,
         int64_t k, int64_t n_post, int64_t w_every, int64_t t_every) {
  std::memset(out, 0, sizeof(T) * n_batch * n_post);
  for (int64_t b = 0; b < n_batch; ++b) {
    const T* sb = s + b * n_pre;
    const T* wb = w + (b / w_every) * n_pre * k;
    const int32_t* tb = tg + (b / t_every) * n_pre * k;
    T* ob = out + b * n_post;
    ForEachNonzero(sb, n_pre, [&](int64_t i, T x) {
      const T* wr = wb + i * k;
      const int32_t* tr = tb + i * k;
      for (int64_t j = 0; j < k; ++j) {
        // Padding entries point at n_post (or anywhere outside [0, n_post)): dropped.
        const uint32_t t = static_cast<uint32_t>(tr[j]);
        if (t < static_cast<uint64_t>(n_post)) ob[t] += x * wr[j];
      }
    });
  }
}

template <typename T>
void Dense(const T* s, const T* w, T* out, int64_t n_batch, int64_t n_pre, int64_t n_post,
           int64_t w_every) {
  std::memset(out, 0, sizeof(T) * n_batch * n_post);
  for (int64_t b = 0; b < n_batch; ++b) {
    const T* sb = s + b * n_pre;
    const T* wb = w + (b / w_every) * n_pre * n_post;
    T* ob = out + b * n_post;
    ForEachNonzero(sb, n_pre, [&](int64_t i, T x) {
      const T* wr = wb + i * n_post;
      for (int64_t j = 0; j < n_post; ++j) ob[j] += x * wr[j];
    });
  }
}

// The weights' gradient (the transpose of the products in the weights):
// dw[b', i, m] = sum over rows b of weight set b' with s[b, i] != 0 of s[b, i] * ct[b, j(i, m)],
// again only over the rows of neurons that spiked.
template <typename T>
void EllGrad(const T* s, const T* ct, const int32_t* tg, T* dw, int64_t n_batch,
             int64_t n_pre, int64_t k, int64_t n_post, int64_t dw_every, int64_t t_every,
             int64_t n_dw) {
  std::memset(dw, 0, sizeof(T) * n_dw * n_pre * k);
  for (int64_t b = 0; b < n_batch; ++b) {
    const T* sb = s + b * n_pre;
    const T* cb = ct + b * n_post;
    const int32_t* tb = tg + (b / t_every) * n_pre * k;
    T* db = dw + (b / dw_every) * n_pre * k;
    ForEachNonzero(sb, n_pre, [&](int64_t i, T x) {
      for (int64_t m = 0; m < k; ++m) {
        const uint32_t t = static_cast<uint32_t>(tb[i * k + m]);
        if (t < static_cast<uint64_t>(n_post)) db[i * k + m] += x * cb[t];
      }
    });
  }
}

template <typename T>
void DenseGrad(const T* s, const T* ct, T* dw, int64_t n_batch, int64_t n_pre,
               int64_t n_post, int64_t dw_every, int64_t n_dw) {
  std::memset(dw, 0, sizeof(T) * n_dw * n_pre * n_post);
  for (int64_t b = 0; b < n_batch; ++b) {
    const T* sb = s + b * n_pre;
    const T* cb = ct + b * n_post;
    T* db = dw + (b / dw_every) * n_pre * n_post;
    ForEachNonzero(sb, n_pre, [&](int64_t i, T x) {
      T* row = db + i * n_post;
      for (int64_t j = 0; j < n_post; ++j) row[j] += x * cb[j];
    });
  }
}

// How many batch rows of `s` share one set of `what`: L / L_what, which must divide.
ffi::Error Every(int64_t n_batch, int64_t n_what, const char* what, int64_t* every) {
  if (n_what < 1 || n_batch % n_what != 0) {
    return ffi::Error::InvalidArgument(std::string("jaxsnn event kernel: the batch of ") +
                                       what + " does not divide the batch of spikes");
  }
  *every = n_batch / n_what;
  return ffi::Error::Success();
}

ffi::Error CheckCommon(const ffi::AnyBuffer& s, const ffi::AnyBuffer& w,
                       const ffi::AnyBuffer& out) {
  if (s.dimensions().size() < 1 || w.dimensions().size() < 2 || out.dimensions().size() < 1) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: bad ranks");
  }
  if (s.element_type() != w.element_type() || s.element_type() != out.element_type()) {
    return ffi::Error::InvalidArgument(
        "jaxsnn event kernel: spikes, weights and drive differ in dtype");
  }
  if (Dim(w, 2) != Dim(s, 1) || Leading(out, 1) != Leading(s, 1)) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: shapes do not match");
  }
  if (s.element_type() != ffi::F32 && s.element_type() != ffi::F64) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: float32 or float64 only");
  }
  return ffi::Error::Success();
}

ffi::Error EventEll(const ffi::AnyBuffer& s, const ffi::AnyBuffer& w,
                    const ffi::Buffer<ffi::S32>& tg, ffi::Result<ffi::AnyBuffer> out) {
  if (auto e = CheckCommon(s, w, *out); e.failure()) return e;
  const int64_t n_pre = Dim(s, 1), k = Dim(w, 1), n_post = Dim(*out, 1);
  const int64_t n_batch = Leading(s, 1);
  auto tdims = tg.dimensions();
  if (tdims.size() < 2 || tdims[tdims.size() - 1] != k || tdims[tdims.size() - 2] != n_pre) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: targets and weights differ in shape");
  }
  if (n_pre == 0 || k == 0 || n_batch == 0) {
    std::memset(out->untyped_data(), 0, out->size_bytes());
    return ffi::Error::Success();
  }
  int64_t w_every = 0, t_every = 0;
  if (auto e = Every(n_batch, Leading(w, 2), "weights", &w_every); e.failure()) return e;
  const int64_t n_tg = static_cast<int64_t>(tg.element_count()) / (n_pre * k);
  if (auto e = Every(n_batch, n_tg, "targets", &t_every); e.failure()) return e;
  if (s.element_type() == ffi::F32) {
    Ell(s.typed_data<float>(), w.typed_data<float>(), tg.typed_data(),
        out->typed_data<float>(), n_batch, n_pre, k, n_post, w_every, t_every);
  } else {
    Ell(s.typed_data<double>(), w.typed_data<double>(), tg.typed_data(),
        out->typed_data<double>(), n_batch, n_pre, k, n_post, w_every, t_every);
  }
  return ffi::Error::Success();
}

ffi::Error EventDense(const ffi::AnyBuffer& s, const ffi::AnyBuffer& w,
                      ffi::Result<ffi::AnyBuffer> out) {
  if (auto e = CheckCommon(s, w, *out); e.failure()) return e;
  const int64_t n_pre = Dim(s, 1), n_post = Dim(*out, 1);
  const int64_t n_batch = Leading(s, 1);
  if (Dim(w, 1) != n_post) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: dense weights and drive differ");
  }
  if (n_pre == 0 || n_post == 0 || n_batch == 0) {
    std::memset(out->untyped_data(), 0, out->size_bytes());
    return ffi::Error::Success();
  }
  int64_t w_every = 0;
  if (auto e = Every(n_batch, Leading(w, 2), "weights", &w_every); e.failure()) return e;
  if (s.element_type() == ffi::F32) {
    Dense(s.typed_data<float>(), w.typed_data<float>(), out->typed_data<float>(), n_batch,
          n_pre, n_post, w_every);
  } else {
    Dense(s.typed_data<double>(), w.typed_data<double>(), out->typed_data<double>(), n_batch,
          n_pre, n_post, w_every);
  }
  return ffi::Error::Success();
}

ffi::Error WeightGrad(const ffi::AnyBuffer& s, const ffi::AnyBuffer& ct,
                      const ffi::Buffer<ffi::S32>* tg, ffi::Result<ffi::AnyBuffer> dw) {
  if (auto e = CheckCommon(s, *dw, ct); e.failure()) return e;
  const int64_t n_pre = Dim(s, 1), k = Dim(*dw, 1), n_post = Dim(ct, 1);
  const int64_t n_batch = Leading(s, 1), n_dw = Leading(*dw, 2);
  if (tg == nullptr && k != n_post) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: dense gradient and drive differ");
  }
  if (n_pre == 0 || k == 0 || n_batch == 0) {
    std::memset(dw->untyped_data(), 0, dw->size_bytes());
    return ffi::Error::Success();
  }
  int64_t dw_every = 0, t_every = 0;
  if (auto e = Every(n_batch, n_dw, "weights", &dw_every); e.failure()) return e;
  if (tg != nullptr) {
    const int64_t n_tg = static_cast<int64_t>(tg->element_count()) / (n_pre * k);
    if (auto e = Every(n_batch, n_tg, "targets", &t_every); e.failure()) return e;
    if (s.element_type() == ffi::F32) {
      EllGrad(s.typed_data<float>(), ct.typed_data<float>(), tg->typed_data(),
              dw->typed_data<float>(), n_batch, n_pre, k, n_post, dw_every, t_every, n_dw);
    } else {
      EllGrad(s.typed_data<double>(), ct.typed_data<double>(), tg->typed_data(),
              dw->typed_data<double>(), n_batch, n_pre, k, n_post, dw_every, t_every, n_dw);
    }
  } else if (s.element_type() == ffi::F32) {
    DenseGrad(s.typed_data<float>(), ct.typed_data<float>(), dw->typed_data<float>(), n_batch,
              n_pre, n_post, dw_every, n_dw);
  } else {
    DenseGrad(s.typed_data<double>(), ct.typed_data<double>(), dw->typed_data<double>(),
              n_batch, n_pre, n_post, dw_every, n_dw);
  }
  return ffi::Error::Success();
}

// Walks the arguments of a call over every projection of a step: the signals of the
// `n_sources` sources, then per projection one array (its weights, or its drive's
// cotangent) and, if `sparse[p]`, its targets; projection p reads the signal `source[p]`
// and writes result p through `f(signal, array, targets or nullptr, result)`.
template <typename F>
ffi::Error ForEachProjection(ffi::RemainingArgs& args, ffi::RemainingRets& rets,
                             ffi::Span<const int64_t> source, ffi::Span<const int64_t> sparse,
                             F&& f) {
  const size_t n_proj = source.size();
  if (sparse.size() != n_proj || rets.size() != n_proj) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: one source and flag per result");
  }
  size_t n_stored = 0;
  for (size_t p = 0; p < n_proj; ++p) n_stored += sparse[p] ? 2 : 1;
  if (args.size() < n_stored) {
    return ffi::Error::InvalidArgument("jaxsnn event kernel: too few arguments");
  }
  const size_t n_sources = args.size() - n_stored;
  size_t next = n_sources;
  for (size_t p = 0; p < n_proj; ++p) {
    if (source[p] < 0 || static_cast<size_t>(source[p]) >= n_sources) {
      return ffi::Error::InvalidArgument("jaxsnn event kernel: source index out of range");
    }
    auto s = args.get<ffi::AnyBuffer>(source[p]);
    auto x = args.get<ffi::AnyBuffer>(next++);
    auto out = rets.get<ffi::AnyBuffer>(p);
    if (s.has_error()) return s.error();
    if (x.has_error()) return x.error();
    if (out.has_error()) return out.error();
    ffi::Error e = ffi::Error::Success();
    if (sparse[p]) {
      auto tg = args.get<ffi::Buffer<ffi::S32>>(next++);
      if (tg.has_error()) return tg.error();
      e = f(*s, *x, &*tg, *out);
    } else {
      e = f(*s, *x, nullptr, *out);
    }
    if (e.failure()) return e;
  }
  return ffi::Error::Success();
}

// Every projection's drive of a step in one call (arguments: `ForEachProjection`, the
// array being the weights).
ffi::Error EventDrives(ffi::RemainingArgs args, ffi::RemainingRets rets,
                       ffi::Span<const int64_t> source, ffi::Span<const int64_t> sparse) {
  return ForEachProjection(
      args, rets, source, sparse,
      [](const ffi::AnyBuffer& s, const ffi::AnyBuffer& w, const ffi::Buffer<ffi::S32>* tg,
         ffi::Result<ffi::AnyBuffer> out) {
        return tg != nullptr ? EventEll(s, w, *tg, out) : EventDense(s, w, out);
      });
}

// The gradients of every projection's weights in one call (arguments:
// `ForEachProjection`, the array being the drive's cotangent; result p is shaped like
// projection p's weights).
ffi::Error EventWeightGrads(ffi::RemainingArgs args, ffi::RemainingRets rets,
                            ffi::Span<const int64_t> source, ffi::Span<const int64_t> sparse) {
  return ForEachProjection(args, rets, source, sparse, WeightGrad);
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxsnn_event_drives, EventDrives,
                              ffi::Ffi::Bind()
                                  .RemainingArgs()
                                  .RemainingRets()
                                  .Attr<ffi::Span<const int64_t>>("source")
                                  .Attr<ffi::Span<const int64_t>>("sparse"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxsnn_event_weight_grads, EventWeightGrads,
                              ffi::Ffi::Bind()
                                  .RemainingArgs()
                                  .RemainingRets()
                                  .Attr<ffi::Span<const int64_t>>("source")
                                  .Attr<ffi::Span<const int64_t>>("sparse"));
