#include "services/trainer/core/triplet_loss.h"

#include <limits>

namespace dogsearch::trainer {
namespace {

struct Masks {
  torch::Tensor positive;  // [N, N] same label, not self.
  torch::Tensor negative;  // [N, N] different label.
};

Masks LabelMasks(const torch::Tensor& labels) {
  torch::Tensor l = labels.view({-1});
  torch::Tensor same = l.unsqueeze(1) == l.unsqueeze(0);
  torch::Tensor eye =
      torch::eye(l.size(0), torch::TensorOptions().dtype(torch::kBool).device(l.device()));
  return Masks{same & ~eye, ~same};
}

constexpr double kInf = std::numeric_limits<double>::infinity();

MinedTriplets BatchHard(const torch::Tensor& d, const Masks& m) {
  torch::Tensor pos_d = d.masked_fill(~m.positive, -kInf);
  torch::Tensor neg_d = d.masked_fill(~m.negative, kInf);
  torch::Tensor p = std::get<1>(pos_d.max(1));
  torch::Tensor n = std::get<1>(neg_d.min(1));
  torch::Tensor valid = m.positive.any(1) & m.negative.any(1);
  torch::Tensor a = valid.nonzero().view({-1});
  return MinedTriplets{a, p.index_select(0, a), n.index_select(0, a)};
}

MinedTriplets SemiHard(const torch::Tensor& d, const Masks& m) {
  // cand[a, p, n]: n is a negative of a and d(a, n) > d(a, p).
  torch::Tensor d_an = d.unsqueeze(1);  // [N, 1, N]
  torch::Tensor d_ap = d.unsqueeze(2);  // [N, N, 1]
  torch::Tensor cand = m.negative.unsqueeze(1) & (d_an > d_ap);
  auto [semi_d, semi_n] = d_an.expand_as(cand).masked_fill(~cand, kInf).min(2);
  torch::Tensor hardest_n = std::get<1>(d.masked_fill(~m.negative, kInf).min(1));  // [N]
  torch::Tensor has = cand.any(2);
  torch::Tensor n_idx = torch::where(has, semi_n, hardest_n.unsqueeze(1).expand_as(semi_n));
  torch::Tensor valid = m.positive & m.negative.any(1, /*keepdim=*/true);
  torch::Tensor ap = valid.nonzero();  // [T, 2]
  torch::Tensor a = ap.select(1, 0), p = ap.select(1, 1);
  torch::Tensor n = n_idx.index({a, p});
  return MinedTriplets{a.contiguous(), p.contiguous(), n.contiguous()};
}

MinedTriplets BatchAll(const Masks& m) {
  torch::Tensor valid = m.positive.unsqueeze(2) & m.negative.unsqueeze(1);
  torch::Tensor apn = valid.nonzero();  // [T, 3]
  return MinedTriplets{apn.select(1, 0).contiguous(), apn.select(1, 1).contiguous(),
                       apn.select(1, 2).contiguous()};
}

}  // namespace

torch::Tensor PairwiseDistances(const torch::Tensor& e) {
  torch::Tensor sq = e.pow(2).sum(1);
  torch::Tensor d2 = sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * e.matmul(e.t());
  return d2.clamp_min(1e-12).sqrt();
}

MinedTriplets MineTriplets(const torch::Tensor& distances, const torch::Tensor& labels,
                           const TripletLossOptions& options) {
  torch::NoGradGuard no_grad;
  const Masks m = LabelMasks(labels.to(distances.device()));
  switch (options.mining) {
    case MiningKind::kBatchHard:
      return BatchHard(distances, m);
    case MiningKind::kSemiHard:
      return SemiHard(distances, m);
    case MiningKind::kBatchAll:
      return BatchAll(m);
  }
  return BatchHard(distances, m);
}

TripletLossResult TripletLoss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                              const TripletLossOptions& options) {
  torch::Tensor d = PairwiseDistances(embeddings);
  const MinedTriplets t = MineTriplets(d.detach(), labels, options);
  TripletLossResult r;
  r.triplets = t.anchor.size(0);
  if (r.triplets == 0) {
    r.loss = embeddings.sum() * 0;
    return r;
  }
  torch::Tensor d_ap = d.index({t.anchor, t.positive});
  torch::Tensor d_an = d.index({t.anchor, t.negative});
  torch::Tensor diff = d_ap - d_an;
  torch::Tensor active = options.soft_margin ? (diff > 0) : (diff + options.margin > 0);
  if (options.soft_margin) {
    r.loss = torch::nn::functional::softplus(diff).mean();
  } else {
    torch::Tensor hinge = torch::relu(diff + options.margin);
    if (options.mining == MiningKind::kBatchAll) {
      r.loss = hinge.sum() / active.sum().clamp_min(1);
    } else {
      r.loss = hinge.mean();
    }
  }
  torch::Tensor stats = torch::stack({active.to(d_ap.scalar_type()).mean(), d_ap.detach().mean(),
                                      d_an.detach().mean()})
                            .to(torch::kCPU, torch::kDouble);
  r.active_fraction = stats[0].item<double>();
  r.mean_positive = stats[1].item<double>();
  r.mean_negative = stats[2].item<double>();
  return r;
}

}  // namespace dogsearch::trainer
