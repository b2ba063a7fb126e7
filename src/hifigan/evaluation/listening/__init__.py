"""`hifigan listen`: a MOS listening test (5-point absolute category rating, as in the HiFi-GAN paper).

study: the stimuli and the SQLite file; store: every read and write of it; app/pages: the web pages;
serve: the local server; mos: MOS with 95% CIs per system (the paper's Table 1).
"""
