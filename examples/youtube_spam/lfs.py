"""Labeling functions for YouTube comment spam (0 = HAM, 1 = SPAM).

Written for labelmill from a reading of the comments, not tuned on test labels.
Spam on these music videos self-promotes (my channel, subscribe, check out, links)
or sells things (money, free, giveaways); ham talks about the song, the artist or
the view count, and is often short. Each LF is used by ``run_example.py`` and by
``labelmill apply --lfs examples/youtube_spam/lfs.py``.
"""

import re

from labelmill.lfs import ABSTAIN, keyword_lf, labeling_function, regex_lf

HAM, SPAM = 0, 1

# ---------------------------------------------------------------- spam: self-promotion
my_stuff = regex_lf(
    "my_stuff",
    r"\b(my|our)\s+(new\s+|first\s+|youtube\s+|own\s+)?(channel|video|videos|vids?|page|music|songs?|"
    r"covers?|rap|beats?|playlist|band|blog|website|site|account|vlog|stuff|content)\b",
    SPAM, flags=re.I)
subscribe = regex_lf("subscribe", r"\b(subscri\w*|suscri\w*|sub|subs|sub4sub|subbed)\b", SPAM, flags=re.I)
check_out = regex_lf("check_out", r"\bcheck\s*(it\s+)?(out|my|this|our)\b", SPAM, flags=re.I)
link = regex_lf("link", r"https?://|www\.|\b\w+\.(com|net|org|ly|tv|me|info|biz)\b", SPAM, flags=re.I)
please = keyword_lf("please", ["please", "plz", "pls", "plss", "plzz"], SPAM)
social = keyword_lf("social", ["facebook", "twitter", "instagram", "soundcloud", "twitch", "google+", "fb",
                               "follow me", "follow my", "add me"], SPAM)
promo_requests = keyword_lf("promo_requests", [
    "like this comment", "thumbs up", "give it a chance", "give me a chance", "support me", "help me",
    "share this", "go to my", "visit my", "view my", "watch my", "listen to my", "upcoming", "up and coming",
    "aspiring", "my dream", "new channel", "on my channel", "to my channel", "rapper", "producer"], SPAM)
money = keyword_lf("money", ["money", "$", "paypal", "free", "earn", "cash", "gift card", "giveaway",
                             "win", "prize", "income", "make money", "online", "work from home", "bitcoin",
                             "iphone", "deal", "offer", "discount", "buy", "sale"], SPAM)
hey_guys = regex_lf("hey_guys", r"^\s*(hey|hi|hello)\s+(guys|everyone|everybody|people|youtube)\b", SPAM, flags=re.I)


@labeling_function()
def shouting(x):
    """Long comments mostly in capitals read like ads."""
    letters = [c for c in x.text if c.isalpha()]
    if len(letters) >= 40 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return SPAM
    return ABSTAIN


@labeling_function()
def long_comment(x):
    """Spam pitches are long; comments about the song rarely are."""
    return SPAM if len(x.text) > 250 else ABSTAIN


# ---------------------------------------------------------------- ham: talk about the video
song_talk = keyword_lf("song_talk", ["song", "songs", "this song", "love this", "lyrics", "beat", "chorus",
                                     "dance", "music video", "the video", "voice", "catchy"], HAM)
artist = keyword_lf("artist", ["psy", "katy", "perry", "eminem", "rihanna", "shakira", "lmfao", "gangnam",
                               "oppa", "roar", "waka", "redfoo", "sky blu", "party rock", "shuffle", "marshall",
                               "slim shady", "love the way you lie", "africa"], HAM)
views_talk = regex_lf("views_talk", r"\b(billion|million)\b|\bviews\b.*\?|\bwho('?s| is)\s+(still\s+)?"
                      r"(here|watching|listening)\b|\b(in|still)\s+20(1[4-9]|2\d)\b", HAM, flags=re.I)
reactions = keyword_lf("reactions", ["lol", "haha", "hahaha", "omg", "wow", "awesome", "amazing", "beautiful",
                                     "best", "legend", "classic", "masterpiece", "miss", "memories", "childhood",
                                     "cool", "nice", "great", "good", "favorite", "favourite", "<3", "♥",
                                     "hate", "sucks", "shit", "worst", "funny"], HAM)


@labeling_function()
def short_comment(x):
    """Short comments without a link are reactions, not ads."""
    text = x.text.strip()
    if len(text) < 35 and "http" not in text.lower() and ".com" not in text.lower():
        return HAM
    return ABSTAIN
