#!/usr/bin/env python3
"""Builds the recall-quality dataset from people.txt (hand-written) plus generic chit-chat.

Deterministic (seeded): running it again rewrites conversations.jsonl and questions.jsonl
byte for byte. The outputs are committed, so tests never need python.

  conversations.jsonl  one memory a line: id, session, date (ISO), speaker, text
  questions.jsonl      one question a line: id, question, evidence (memory ids), type, split

The split is by question (the memories are shared, as an agent's memory would be): half the
questions of each type are "dev" (for tuning), the other half "test" (for reporting).
"""
import datetime
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240302
FIRST_SESSION = datetime.date(2024, 1, 6)  # sessions every two weeks, s01..s24

# Chit-chat every group chat is full of: weak distractors, spread over sessions and speakers.
FILLER = [
    "Haha that's so true.", "How was everyone's weekend?", "I'm exhausted today, long week.",
    "Did anyone watch the game last night?", "Rain again, of course.", "Coffee first, then I'll be a person.",
    "That's awesome, congrats!", "Miss you all, we should get dinner soon.", "Ugh, Mondays.",
    "I'm so proud of you!", "What's everyone doing this weekend?", "Traffic on 26 was a nightmare this morning.",
    "I need a vacation.", "Sending hugs.", "Lol same.", "Can't wait to see everyone.",
    "Does anyone have a good plumber recommendation?", "I finally cleaned out my closet.",
    "The new Thai place on Mississippi is really good.", "I've been sleeping terribly lately.",
    "We should do a group hike soon.", "That made my day.", "Tell me more!", "Wait, really?",
    "I'm so behind on emails.", "The farmers market had the best strawberries.",
    "I binge-watched that baking show all weekend.", "My phone screen cracked again.",
    "Who's up for trivia night on Wednesday?", "I tried that new coffee shop, overpriced but cute.",
    "Good morning everyone!", "Goodnight all, early start tomorrow.", "That's hilarious.",
    "I feel that.", "Honestly same.", "You deserve it.", "Let me know if you need help with anything.",
    "I can bring snacks.", "I'll check my calendar.", "Running late, sorry!", "Oh no, that's the worst.",
    "Fingers crossed for you.", "Keep us posted!", "We need a group photo next time.",
    "I've been listening to a lot of podcasts on my commute.", "Anyone read anything good lately?",
    "My neighbor's dog barks all night.", "I got a flu shot today.", "Gym was packed tonight.",
    "Meal prepping for the week, wish me luck.", "I spilled coffee on my laptop keyboard, it survived.",
    "The power went out for an hour last night.", "Just booked a dentist appointment, dreading it.",
    "Does anyone know a good tailor?", "Finally fixed the leaky faucet myself.",
    "My plants are all dying, I'm cursed.", "We should do a potluck in the spring.",
    "Sorry I've been quiet, work has been crazy.", "This week flew by.", "So happy for you!",
    "I'm making soup tonight, it's that kind of weather.", "That sounds amazing.",
    "I laughed way too hard at that.", "Anyone want to split a Costco run?",
    "My sister visited this weekend, it was nice to catch up.", "I need new running shoes, any tips?",
    "Work is slow this week, which I'm not complaining about.", "I took a nap and it was glorious.",
]
SEASONAL = {
    1: ["Happy New Year everyone!", "Snow day! Everything is closed."],
    2: ["Ice storm again, stay off the roads."],
    13: ["Heat wave this week, stay cool everyone."],
    14: ["Happy Fourth! Fireworks kept the dog up all night."],
    18: ["The smoke from the wildfires is awful today."],
    22: ["Happy Halloween!"],
    23: ["Happy Thanksgiving week, everyone."],
}
FILLER_COUNT = 260


def session_date(n):
    return FIRST_SESSION + datetime.timedelta(days=14 * (n - 1))


def parse(path):
    """Returns (memories, questions): memories as dicts with session/speaker/text, questions
    pointing at the index of their evidence memory."""
    memories, questions = [], []
    speaker = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("=="):
                speaker = line[2:].strip()
                continue
            parts = [p.strip() for p in line.split(" | ")]
            session = int(parts[0].lstrip("s"))
            if speaker == "replies":
                memories.append({"session": session, "speaker": parts[1], "text": parts[2]})
                continue
            memories.append({"session": session, "speaker": speaker, "text": parts[1]})
            for q in parts[2:]:
                text, _, kind = q.rpartition("#")
                questions.append({"question": text.strip(), "type": kind.strip(), "evidence": len(memories) - 1})
    return memories, questions


def main():
    rng = random.Random(SEED)
    memories, questions = parse(os.path.join(HERE, "people.txt"))
    speakers = sorted({m["speaker"] for m in memories})
    for session, lines in SEASONAL.items():
        for text in lines:
            memories.append({"session": session, "speaker": rng.choice(speakers), "text": text})
    for _ in range(FILLER_COUNT):
        memories.append({"session": rng.randint(1, 24), "speaker": rng.choice(speakers), "text": rng.choice(FILLER)})

    # Interleave each session's turns in a random order, sessions in time order; ids follow it.
    order = list(range(len(memories)))
    rng.shuffle(order)
    order.sort(key=lambda i: memories[i]["session"])
    new_id = {}
    rows = []
    for n, i in enumerate(order, 1):
        m = memories[i]
        new_id[i] = "m%04d" % n
        rows.append({"id": new_id[i], "session": m["session"], "date": session_date(m["session"]).isoformat(),
                     "speaker": m["speaker"], "text": m["text"]})

    # Split half of each type to dev, half to test; each type shuffled by its own seeded rng,
    # so adding questions of one type never moves another type's questions between splits.
    by_type = {}
    for q in questions:
        by_type.setdefault(q["type"], []).append(q)
    for kind in sorted(by_type):
        group = list(by_type[kind])
        random.Random("%d-%s" % (SEED, kind)).shuffle(group)
        for j, q in enumerate(group):
            q["split"] = "dev" if j % 2 == 0 else "test"
    out_questions = []
    for n, q in enumerate(questions, 1):
        out_questions.append({"id": "q%03d" % n, "question": q["question"], "evidence": [new_id[q["evidence"]]],
                              "type": q["type"], "split": q["split"]})

    with open(os.path.join(HERE, "conversations.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "questions.jsonl"), "w", encoding="utf-8") as f:
        for q in out_questions:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    counts = {k: len(v) for k, v in sorted(by_type.items())}
    print("%d memories, %d questions %s" % (len(rows), len(out_questions), counts))


if __name__ == "__main__":
    main()
