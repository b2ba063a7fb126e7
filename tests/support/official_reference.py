"""An independent, official-style HiFi-GAN (old hook-based weight/spectral norm), for equivalence tests.

Written from the paper and the official repository's documented structure; it produces state dicts with
the official key names (weight_g/weight_v, weight_orig/weight_u/weight_v) and the official forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_wn = nn.utils.weight_norm
_sn = nn.utils.spectral_norm


def _pad(k: int, d: int = 1) -> int:
    return (k * d - d) // 2


class RefResBlock1(nn.Module):
    def __init__(self, ch, k, dil):
        super().__init__()
        self.convs1 = nn.ModuleList([_wn(nn.Conv1d(ch, ch, k, 1, dilation=d, padding=_pad(k, d))) for d in dil])
        self.convs2 = nn.ModuleList([_wn(nn.Conv1d(ch, ch, k, 1, dilation=1, padding=_pad(k))) for _ in dil])

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, 0.1)
            xt = c1(xt)
            xt = F.leaky_relu(xt, 0.1)
            xt = c2(xt)
            x = xt + x
        return x


class RefResBlock2(nn.Module):
    def __init__(self, ch, k, dil):
        super().__init__()
        self.convs = nn.ModuleList([_wn(nn.Conv1d(ch, ch, k, 1, dilation=d, padding=_pad(k, d))) for d in dil])

    def forward(self, x):
        for c in self.convs:
            xt = F.leaky_relu(x, 0.1)
            xt = c(xt)
            x = xt + x
        return x


class RefGenerator(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.num_kernels = len(h.resblock_kernel_sizes)
        self.num_upsamples = len(h.upsample_rates)
        self.conv_pre = _wn(nn.Conv1d(h.num_mels, h.upsample_initial_channel, 7, 1, padding=3))
        block = RefResBlock1 if str(h.resblock) == "1" else RefResBlock2
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(h.upsample_rates, h.upsample_kernel_sizes)):
            c = h.upsample_initial_channel
            self.ups.append(_wn(nn.ConvTranspose1d(c // (2**i), c // (2 ** (i + 1)), k, u, padding=(k - u) // 2)))
        self.resblocks = nn.ModuleList()
        for i in range(len(self.ups)):
            ch = h.upsample_initial_channel // (2 ** (i + 1))
            for k, d in zip(h.resblock_kernel_sizes, h.resblock_dilation_sizes):
                self.resblocks.append(block(ch, k, d))
        self.conv_post = _wn(nn.Conv1d(ch, 1, 7, 1, padding=3))

    def forward(self, x):
        x = self.conv_pre(x)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, 0.1)
            x = self.ups[i](x)
            xs = None
            for j in range(self.num_kernels):
                r = self.resblocks[i * self.num_kernels + j](x)
                xs = r if xs is None else xs + r
            x = xs / self.num_kernels
        x = F.leaky_relu(x)
        x = self.conv_post(x)
        return torch.tanh(x)


class RefDiscriminatorP(nn.Module):
    def __init__(self, period, c=(32, 128, 512, 1024, 1024)):  # c: the convs' output channels (official default)
        super().__init__()
        self.period = period
        self.convs = nn.ModuleList([
            _wn(nn.Conv2d(1, c[0], (5, 1), (3, 1), padding=(2, 0))),
            _wn(nn.Conv2d(c[0], c[1], (5, 1), (3, 1), padding=(2, 0))),
            _wn(nn.Conv2d(c[1], c[2], (5, 1), (3, 1), padding=(2, 0))),
            _wn(nn.Conv2d(c[2], c[3], (5, 1), (3, 1), padding=(2, 0))),
            _wn(nn.Conv2d(c[3], c[4], (5, 1), 1, padding=(2, 0))),
        ])
        self.conv_post = _wn(nn.Conv2d(c[4], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):
        fmap = []
        b, c, t = x.shape
        if t % self.period != 0:
            n_pad = self.period - (t % self.period)
            x = F.pad(x, (0, n_pad), "reflect")
            t = t + n_pad
        x = x.view(b, c, t // self.period, self.period)
        for layer in self.convs:
            x = F.leaky_relu(layer(x), 0.1)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class RefDiscriminatorS(nn.Module):
    def __init__(self, use_spectral_norm=False, c=(128, 128, 256, 512, 1024, 1024, 1024), g=(4, 16, 16, 16, 16)):
        """c: the convs' output channels, g: the groups of convs 1-5 (the official ones by default)."""
        super().__init__()
        norm = _sn if use_spectral_norm else _wn
        self.convs = nn.ModuleList([
            norm(nn.Conv1d(1, c[0], 15, 1, padding=7)),
            norm(nn.Conv1d(c[0], c[1], 41, 2, groups=g[0], padding=20)),
            norm(nn.Conv1d(c[1], c[2], 41, 2, groups=g[1], padding=20)),
            norm(nn.Conv1d(c[2], c[3], 41, 4, groups=g[2], padding=20)),
            norm(nn.Conv1d(c[3], c[4], 41, 4, groups=g[3], padding=20)),
            norm(nn.Conv1d(c[4], c[5], 41, 1, groups=g[4], padding=20)),
            norm(nn.Conv1d(c[5], c[6], 5, 1, padding=2)),
        ])
        self.conv_post = norm(nn.Conv1d(c[6], 1, 3, 1, padding=1))

    def forward(self, x):
        fmap = []
        for layer in self.convs:
            x = F.leaky_relu(layer(x), 0.1)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class RefMPD(nn.Module):
    def __init__(self, **widths):
        super().__init__()
        self.discriminators = nn.ModuleList([RefDiscriminatorP(p, **widths) for p in (2, 3, 5, 7, 11)])

    def forward(self, y, y_hat):
        rs, gs, frs, fgs = [], [], [], []
        for d in self.discriminators:
            r, fr = d(y)
            g, fg = d(y_hat)
            rs.append(r), gs.append(g), frs.append(fr), fgs.append(fg)
        return rs, gs, frs, fgs


class RefMSD(nn.Module):
    def __init__(self, **widths):
        super().__init__()
        self.discriminators = nn.ModuleList(
            [RefDiscriminatorS(True, **widths), RefDiscriminatorS(False, **widths), RefDiscriminatorS(False, **widths)]
        )
        self.meanpools = nn.ModuleList([nn.AvgPool1d(4, 2, padding=2), nn.AvgPool1d(4, 2, padding=2)])

    def forward(self, y, y_hat):
        rs, gs, frs, fgs = [], [], [], []
        for i, d in enumerate(self.discriminators):
            if i != 0:
                y = self.meanpools[i - 1](y)
                y_hat = self.meanpools[i - 1](y_hat)
            r, fr = d(y)
            g, fg = d(y_hat)
            rs.append(r), gs.append(g), frs.append(fr), fgs.append(fg)
        return rs, gs, frs, fgs


OFFICIAL_CONVENTION = {"convention": "official", "floor": None, "framing": "official", "magnitude_eps": 1e-9,
                       "stats": None}  # what a config's mel_kwargs() adds for the official front-end


def reference_mel(y, n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax, **convention):
    """The official mel, written out with librosa for the basis (float32 torch STFT as the official code).
    `convention`: the rest of a config's mel_kwargs(), which must describe the official front-end."""
    import librosa

    assert {**OFFICIAL_CONVENTION, **convention} == OFFICIAL_CONVENTION, f"not the official front-end: {convention}"

    basis = torch.from_numpy(librosa.filters.mel(sr=sampling_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin,
                                                 fmax=fmax)).float()
    window = torch.hann_window(win_size)
    p = int((n_fft - hop_size) / 2)
    y = F.pad(y.unsqueeze(1), (p, p), mode="reflect").squeeze(1)
    spec = torch.view_as_real(torch.stft(y, n_fft, hop_length=hop_size, win_length=win_size, window=window,
                                         center=False, pad_mode="reflect", normalized=False, onesided=True,
                                         return_complex=True))
    spec = torch.sqrt(spec.pow(2).sum(-1) + 1e-9)
    return torch.log(torch.clamp(torch.matmul(basis, spec), min=1e-5))


# ---------------------------------------------------------------- the official losses and training step
def ref_feature_loss(fmap_r, fmap_g):
    loss = 0
    for dr, dg in zip(fmap_r, fmap_g):
        for rl, gl in zip(dr, dg):
            loss += torch.mean(torch.abs(rl - gl))
    return loss * 2


def ref_discriminator_loss(disc_real_outputs, disc_generated_outputs):
    loss = 0
    for dr, dg in zip(disc_real_outputs, disc_generated_outputs):
        loss += torch.mean((1 - dr) ** 2) + torch.mean(dg**2)
    return loss


def ref_generator_loss(disc_outputs):
    loss = 0
    for dg in disc_outputs:
        loss += torch.mean((1 - dg) ** 2)
    return loss


def ref_train_step(generator, mpd, msd, optim_g, optim_d, x, y, y_mel, loss_mel_fn):
    """One step of the official loop (train.py): D step on detached G(x), then the G step with mel L1 x 45,
    feature matching and adversarial terms; every module in training mode. Returns (loss_disc_all, loss_gen_all).

    `loss_mel_fn`: [B, T] audio -> [B, num_mels, F] mel with the loss parameters (fmax = sr/2).
    """
    y_g_hat = generator(x)
    y_g_hat_mel = loss_mel_fn(y_g_hat.squeeze(1))

    optim_d.zero_grad()
    y_df_hat_r, y_df_hat_g, _, _ = mpd(y, y_g_hat.detach())
    loss_disc_f = ref_discriminator_loss(y_df_hat_r, y_df_hat_g)
    y_ds_hat_r, y_ds_hat_g, _, _ = msd(y, y_g_hat.detach())
    loss_disc_s = ref_discriminator_loss(y_ds_hat_r, y_ds_hat_g)
    loss_disc_all = loss_disc_s + loss_disc_f
    loss_disc_all.backward()
    optim_d.step()

    optim_g.zero_grad()
    loss_mel = F.l1_loss(y_mel, y_g_hat_mel) * 45
    y_df_hat_r, y_df_hat_g, fmap_f_r, fmap_f_g = mpd(y, y_g_hat)
    y_ds_hat_r, y_ds_hat_g, fmap_s_r, fmap_s_g = msd(y, y_g_hat)
    loss_fm_f = ref_feature_loss(fmap_f_r, fmap_f_g)
    loss_fm_s = ref_feature_loss(fmap_s_r, fmap_s_g)
    loss_gen_f = ref_generator_loss(y_df_hat_g)
    loss_gen_s = ref_generator_loss(y_ds_hat_g)
    loss_gen_all = loss_gen_s + loss_gen_f + loss_fm_s + loss_fm_f + loss_mel
    loss_gen_all.backward()
    optim_g.step()
    return loss_disc_all.detach(), loss_gen_all.detach()


def reference_widths(config, name: str) -> dict:
    """The widths config.discriminator_args gives MPD or MSD (`name`), as RefMPD's or RefMSD's keywords."""
    args = config.discriminator_args.get(name, {})
    widths = {"c": tuple(args["channels"])} if "channels" in args else {}
    if "groups" in args:  # ours lists all seven convs' groups; the official convs 0 and 6 have none
        assert args["groups"][0] == args["groups"][6] == 1, args["groups"]
        widths["g"] = tuple(args["groups"][1:6])
    return widths


def official_copies(config, generator, mpd, msd):
    """Official-style modules holding the weights (and spectral-norm u/v) of ours, with the official optimizers:
    (generator, mpd, msd, optim_g, optim_d), all in training mode, in the dtype of `generator`."""
    import itertools

    from hifigan.checkpoints.official import ours_to_official

    dtype = next(generator.parameters()).dtype
    refs = RefGenerator(config), RefMPD(**reference_widths(config, "mpd")), RefMSD(**reference_widths(config, "msd"))
    for ref, ours in zip(refs, (generator, mpd, msd)):
        ref.to(dtype).load_state_dict(ours_to_official(ours.state_dict()))
        ref.train()
    ref_g, ref_mpd, ref_msd = refs
    betas = (config.adam_b1, config.adam_b2)
    optim_g = torch.optim.AdamW(ref_g.parameters(), config.learning_rate, betas=betas)
    optim_d = torch.optim.AdamW(itertools.chain(ref_msd.parameters(), ref_mpd.parameters()), config.learning_rate,
                                betas=betas)
    return ref_g, ref_mpd, ref_msd, optim_g, optim_d
