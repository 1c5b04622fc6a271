"""The `tags` space (after COALA): audio and words aligned, so that clips can be found by words.

Two autoencoders, one for a log-mel patch and one for the clip's multi-hot tag vector, are
trained together; a contrastive loss (temperature 0.1) pulls a clip's audio embedding towards
the embedding of its own tags and away from the other tag sets of the batch, while each
autoencoder keeps its reconstruction term so that the audio embedding still describes the
sound (Favory, Drossos, Virtanen and Serra, "COALA: Co-aligned autoencoders for learning
semantically enriched audio representations", 2020). The clip vectors of the space are the
audio side; a query of words goes through the tag side into the same space.

Tags are words made from the corpus manifest's columns: family (``brass``), register
(``low``), dynamics (``ff``), articulation (``short``), vibrato (``vibrato``/``straight``)
and reverb (``dry``/``room``/``reverberant``).

Shapes: B clips, F mel bands, P patch frames, C tags in the vocabulary, D embedding size.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

DESCRIPTION = "described by the same words: family, register, dynamics, articulation, vibrato, reverb"

TAG_COLUMNS = ("family", "register", "dynamics", "articulation", "vibrato", "reverb")
SYNONYMS = {  # query word -> tag word (used only when the tag word is in the vocabulary)
    "pianissimo": "pp", "piano": "p", "mezzopiano": "mp", "mezzo-piano": "mp", "mezzoforte": "mf",
    "mezzo-forte": "mf", "forte": "f", "fortissimo": "ff", "woodwind": "woodwinds", "wind": "woodwinds",
    "winds": "woodwinds", "string": "strings", "middle": "mid", "medium": "mid", "sustained": "long",
    "wet": "reverberant", "reverb": "reverberant", "senza-vibrato": "straight", "non-vibrato": "straight",
    "plucked-strings": "plucked", "keyboards": "keyboard",
}
FILLER = {"and", "with", "a", "an", "the", "in", "of", "register", "note", "notes", "sound", "sounds",
          "played", "playing"}


def tag_words(tags: dict) -> list[str]:
    """The words of one clip's manifest tags.

    Examples
    --------
    >>> tag_words({"family": "brass", "register": "low", "dynamics": "ff", "articulation": "short",
    ...            "vibrato": "0", "reverb": "100", "pitch": "40"})
    ['brass', 'low', 'ff', 'short', 'straight', 'reverberant']
    """
    words = []
    for column in TAG_COLUMNS:
        value = str(tags.get(column) or "").strip().lower()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            words.append(value.replace(" ", "-"))
            continue
        if column == "vibrato":
            words.append("vibrato" if number > 0 else "straight")
        elif column == "reverb":
            words.append("dry" if number == 0 else "room" if number <= 50 else "reverberant")
        else:
            words.append(f"{column}-{value}")
    return words


class UnknownWords(ValueError):
    """A query used words outside the tags space's vocabulary; the message lists the vocabulary."""

    def __init__(self, unknown: list[str], vocabulary: list[str]):
        self.unknown, self.vocabulary = unknown, vocabulary
        super().__init__(f"Unknown word(s) {', '.join(repr(w) for w in unknown)}; the tags space knows: "
                         f"{', '.join(vocabulary)}.")


def parse_words(query: str, vocabulary: list[str]) -> list[str]:
    """Words of a query mapped onto the vocabulary (synonyms resolved, filler words dropped).

    Raises :class:`UnknownWords` naming every unknown word, and ValueError for an empty query.

    Examples
    --------
    >>> parse_words("Brass, fortissimo, low register", ["brass", "ff", "low", "pp"])
    ['brass', 'ff', 'low']
    """
    known, found, unknown = set(vocabulary), [], []
    for token in re.split(r"[\s,;+/]+", query.strip().lower()):
        if not token or token in FILLER:
            continue
        word = token if token in known else SYNONYMS.get(token)
        if word not in known and token.endswith("s") and token[:-1] in known:
            word = token[:-1]
        if word in known:
            found.append(word)
        else:
            unknown.append(token)
    if unknown:
        raise UnknownWords(unknown, list(vocabulary))
    if not found:
        raise ValueError(f"The query names no tag; the tags space knows: {', '.join(vocabulary)}.")
    return list(dict.fromkeys(found))


@dataclass
class TagsConfig:
    vocabulary: tuple[str, ...] = ()  # C tag words, in multi-hot order
    n_mels: int = 128
    patch_frames: int = 96  # P: 2.2 s at hop 512, as COALA's patches
    band_pool: int = 2  # ours: neighbouring mel bands averaged (128 -> 64), a quarter of the work
    channels: tuple[int, ...] = (8, 16, 32, 64)  # audio encoder: 4x4 stride-2 conv blocks
    tag_hidden: int = 256
    dim: int = 128  # D: the aligned space
    dropout: float = 0.25
    temperature: float = 0.1
    weight_audio: float = 5.0  # lambda_a, lambda_t, lambda_xi of COALA
    weight_tags: float = 5.0
    weight_contrast: float = 10.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TagsConfig":
        d = dict(d)
        d["vocabulary"], d["channels"] = tuple(d["vocabulary"]), tuple(d.get("channels", cls.channels))
        return cls(**d)


def conv_block(c_in: int, c_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Dropout(dropout))


def deconv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


def dense_block(n_in: int, n_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU(), nn.Dropout(dropout))


class TagsModel(nn.Module):
    def __init__(self, cfg: TagsConfig):
        super().__init__()
        self.cfg = cfg
        C, H, D, ch = len(cfg.vocabulary), cfg.tag_hidden, cfg.dim, cfg.channels
        down, n_bands = 2 ** len(ch), cfg.n_mels // cfg.band_pool
        if n_bands % down or cfg.patch_frames % down:
            raise ValueError(f"n_mels / band_pool and patch_frames must be multiples of {down}")
        self.latent_shape = (ch[-1], n_bands // down, cfg.patch_frames // down)  # Z_a: (c, F'/16, P/16)
        self.audio_encoder = nn.Sequential(*[conv_block(a, b, cfg.dropout) for a, b in zip((1, *ch[:-1]), ch)])
        self.audio_decoder = nn.Sequential(*[deconv_block(a, b) for a, b in zip(ch[::-1], ch[-2::-1])],
                                           nn.ConvTranspose2d(ch[0], 1, 4, stride=2, padding=1), nn.Sigmoid())
        self.tag_encoder = nn.Sequential(dense_block(C, H, cfg.dropout), dense_block(H, H, cfg.dropout),
                                         dense_block(H, D, 0.0))  # z_t >= 0
        self.tag_decoder = nn.Sequential(dense_block(D, H, cfg.dropout), dense_block(H, H, cfg.dropout),
                                         nn.Linear(H, C))  # logits
        self.audio_affine = nn.Linear(math.prod(self.latent_shape), D)  # AFF_a
        self.tag_affine = nn.Linear(D, D)  # AFF_t

    def pool_bands(self, patch: torch.Tensor) -> torch.Tensor:
        """``(B, F, P)`` -> ``(B, 1, F' = F / band_pool, P)``, the audio autoencoder's input."""
        return F.avg_pool2d(patch.unsqueeze(1), (self.cfg.band_pool, 1))

    def embed_audio(self, patch: torch.Tensor) -> torch.Tensor:
        """``(B, F, P)`` log-mel patches -> ``(B, D)`` unit vectors in the aligned space."""
        z = self.audio_encoder(self.pool_bands(patch))  # (B, c, F'/16, P/16)
        return F.normalize(self.audio_affine(z.flatten(1)), dim=1)

    def embed_tags(self, multi_hot: torch.Tensor) -> torch.Tensor:
        """``(B, C)`` multi-hot tags -> ``(B, D)`` unit vectors in the aligned space."""
        return F.normalize(self.tag_affine(self.tag_encoder(multi_hot)), dim=1)

    def forward(self, patch: torch.Tensor, multi_hot: torch.Tensor, same: torch.Tensor):
        """Training losses. ``patch (B, F, P)`` in [0, 1], ``multi_hot (B, C)``, ``same (B, B)``
        True where two clips carry the same tag set (positives of the contrastive term).

        Returns (total, {name: value}).
        """
        cfg = self.cfg
        x = self.pool_bands(patch)  # (B, 1, F', P)
        z_a = self.audio_encoder(x)  # (B, c, F'/16, P/16)
        x_hat = self.audio_decoder(z_a)  # (B, 1, F', P)
        z_t = self.tag_encoder(multi_hot)  # (B, D)
        y_logits = self.tag_decoder(z_t)  # (B, C)
        phi_a = F.normalize(self.audio_affine(z_a.flatten(1)), dim=1)  # (B, D)
        phi_t = F.normalize(self.tag_affine(z_t), dim=1)  # (B, D)

        eps = 1e-6  # generalised KL divergence D(x || x_hat) of non-negative arrays
        loss_audio = (x * torch.log((x + eps) / (x_hat + eps)) - x + x_hat).mean()
        loss_tags = F.binary_cross_entropy_with_logits(y_logits, multi_hot)
        logits = phi_a @ phi_t.T / cfg.temperature  # (B, B) cosine / tau
        target = same.float() / same.float().sum(1, keepdim=True)  # clips with equal tags are all positives
        loss_contrast = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
        total = cfg.weight_audio * loss_audio + cfg.weight_tags * loss_tags + cfg.weight_contrast * loss_contrast
        return total, {"audio": loss_audio.item(), "tags": loss_tags.item(), "contrast": loss_contrast.item()}

    def multi_hot(self, words_per_clip: list[list[str]]) -> torch.Tensor:
        """``[[word, ...], ...]`` -> ``(B, C)`` float multi-hot (words outside the vocabulary ignored)."""
        index = {w: i for i, w in enumerate(self.cfg.vocabulary)}
        out = torch.zeros(len(words_per_clip), len(index))
        for b, words in enumerate(words_per_clip):
            for w in words:
                if w in index:
                    out[b, index[w]] = 1.0
        return out

    @torch.inference_mode()
    def search_vector(self, query: str) -> torch.Tensor:
        """A query of words -> ``(D,)`` unit vector (raises :class:`UnknownWords`)."""
        words = parse_words(query, list(self.cfg.vocabulary))
        device = self.tag_affine.weight.device
        return self.embed_tags(self.multi_hot([words]).to(device))[0]


def patches(mel: torch.Tensor, n_frames: int, offset: torch.Tensor | None = None) -> torch.Tensor:
    """Fixed-length patches of a batch of clips of equal length.

    A clip longer than ``n_frames`` gives its loudest window (largest summed log level, as
    COALA picks its patches); a shorter one is placed at ``offset`` (default 0) in silence.

    Parameters
    ----------
    mel : ``(B, F, T)`` log-mel in log units (silence is 0).
    offset : ``(B,)`` frames of silence before a short clip (random offsets augment training).

    Returns
    -------
    ``(B, F, n_frames)`` float32 clipped to [0, 1].
    """
    B, Fb, T = mel.shape
    mel = mel.float().clamp(0, 1)
    if T >= n_frames:
        level = F.pad(mel.sum(1).cumsum(1), (1, 0))  # (B, T+1)
        start = (level[:, n_frames:] - level[:, :-n_frames]).argmax(1)  # (B,)
        idx = start[:, None] + torch.arange(n_frames, device=mel.device)  # (B, P)
        return torch.gather(mel, 2, idx[:, None, :].expand(B, Fb, n_frames))
    out = mel.new_zeros(B, Fb, n_frames)
    offset = torch.zeros(B, dtype=torch.long) if offset is None else offset
    for b in range(B):
        o = int(offset[b])
        out[b, :, o:o + T] = mel[b]
    return out


@torch.inference_mode()
def embed(model: TagsModel, mel: torch.Tensor) -> torch.Tensor:
    """Tags-space vectors of clips (the audio side of the aligned space).

    Parameters
    ----------
    model : a trained :class:`TagsModel` (eval mode).
    mel : ``(B, n_mels, T)`` log-mel of clips of equal length, on the model's device.

    Returns
    -------
    ``(B, D)`` float32 unit vectors; their inner product with :meth:`TagsModel.search_vector`
    says how well a clip fits a query of words.

    Examples
    --------
    >>> m = TagsModel(TagsConfig(vocabulary=("brass", "low"))).eval()
    >>> embed(m, torch.zeros(3, 128, 87)).shape
    torch.Size([3, 128])
    """
    return model.embed_audio(patches(mel, model.cfg.patch_frames)).float()


@dataclass
class TagsTraining:
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    log: list = field(default_factory=list)


def train_tags(mels: list[torch.Tensor], words: list[list[str]], cfg: TagsConfig | None = None,
               train: TagsTraining | None = None, device: str | torch.device = "cpu",
               progress: bool = False) -> TagsModel:
    """Train the aligned audio and tag autoencoders.

    Parameters
    ----------
    mels : ``N`` log-mel tensors ``(n_mels, T_i)``.
    words : ``N`` word lists (see :func:`tag_words`); the vocabulary is every word seen, sorted,
        unless ``cfg.vocabulary`` gives it.
    cfg, train : model and training settings (defaults: :class:`TagsConfig`, :class:`TagsTraining`).

    Returns
    -------
    The model in eval mode on ``device``; ``train.log`` holds the mean losses of every epoch.
    """
    train = train or TagsTraining()
    cfg = cfg or TagsConfig()
    if not cfg.vocabulary:
        cfg = TagsConfig.from_dict({**cfg.to_dict(), "vocabulary": tuple(sorted({w for ws in words for w in ws}))})
    if len(cfg.vocabulary) < 2:
        raise ValueError("The tags space needs clips with tags (family, register, dynamics, ...); found "
                         f"{len(cfg.vocabulary)} distinct tag word(s).")
    gen = torch.Generator().manual_seed(train.seed)
    torch.manual_seed(train.seed)
    model = TagsModel(cfg).to(device)
    y = model.multi_hot(words)  # (N, C)
    _, set_id = torch.unique(y, dim=0, return_inverse=True)  # (N,) which tag set each clip has
    opt = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    steps_per_epoch = max(1, len(mels) // train.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, train.lr, total_steps=train.epochs * steps_per_epoch)
    P = cfg.patch_frames
    for epoch in tqdm(range(train.epochs), desc="tags space", unit="epoch", disable=not progress, leave=False):
        model.train()
        order = torch.randperm(len(mels), generator=gen)
        sums: dict[str, float] = {}
        for s in range(steps_per_epoch):
            idx = order[s * train.batch_size:(s + 1) * train.batch_size]
            batch = []
            for i in idx.tolist():  # short clips at a random place in the patch, long ones cropped at random
                m, T = mels[i].float(), mels[i].shape[-1]
                if T >= P:
                    a = int(torch.randint(0, T - P + 1, (1,), generator=gen))
                    batch.append(m[:, a:a + P].clamp(0, 1))
                else:
                    a = int(torch.randint(0, P - T + 1, (1,), generator=gen))
                    batch.append(F.pad(m.clamp(0, 1), (a, P - T - a)))
            x = torch.stack(batch).to(device)  # (B, F, P)
            same = (set_id[idx][:, None] == set_id[idx][None, :]).to(device)  # (B, B)
            loss, parts = model(x, y[idx].to(device), same)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            for k, v in {"total": loss.item(), **parts}.items():
                sums[k] = sums.get(k, 0.0) + v / steps_per_epoch
        train.log.append({"epoch": epoch + 1, **{k: round(v, 5) for k, v in sums.items()}})
    return model.eval()
