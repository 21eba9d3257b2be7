"""The seed's story end to end: train a model on the trainer's data set, watch it, promote it
(the gateway upgrades itself), enroll dogs from a folder and search with one of their photos.

    python3 story.py --gateway HOST:PORT --trainer HOST:PORT --token T --dataset NAME --photos DIR
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import dogsearch  # noqa: E402
import dogsearch.v1.trainer_pb2  # noqa: E402,F401


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", default="127.0.0.1:50050")
    ap.add_argument("--trainer", default="127.0.0.1:50053")
    ap.add_argument("--token", default=None)
    ap.add_argument("--trainer_token", default=None)
    ap.add_argument("--ca_cert", default=None)
    ap.add_argument("--dataset", required=True, help="folder under the trainer's data root")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--photos", required=True, help="a folder of <dog id>/<photos>")
    a = ap.parse_args()
    with dogsearch.Client(a.gateway, token=a.token, trainer_address=a.trainer,
                          trainer_token=a.trainer_token, ca_cert=a.ca_cert) as ds:
        job = ds.train(a.dataset, epochs=a.epochs, label="story")
        print("training", job.id)
        last = None
        for p in ds.watch(job.id):
            print(f"\r epoch {p.epoch} step {p.step}/{p.total_steps} "
                  f"verification {p.validation.verification_accuracy:.3f}", end="")
            last = p
        print()
        if last is None or last.state != dogsearch.v1.trainer_pb2.JOB_STATE_SUCCEEDED:
            print("training did not succeed:", last.state_reason if last else "no progress")
            return 1
        version = last.best_checkpoint_version or last.last_checkpoint_version
        ds.promote(version)
        print("promoted", version, "- the gateway upgrades itself")
        summary = ds.import_folder(a.photos)
        print(f"enrolled {summary.dogs} dogs, {summary.photos} photos; errors: {summary.errors}")
        first = next(p for d in sorted(Path(a.photos).iterdir()) if d.is_dir()
                     for p in sorted(d.iterdir()) if p.suffix.lower() in dogsearch.client.IMAGE_EXTENSIONS)
        r = ds.search(first)
        print(f"{first}: {dogsearch.answer_name(r)} -> {r.matches[0].name} "
              f"({r.top_confidence:.0%}, model {r.model_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
