"""Write tests/scoring/word_problems.jsonl: small word problems with varied gold forms (integers, money, fractions, words)."""

import json
import random
from pathlib import Path

NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"]
THINGS = ["apples", "marbles", "books", "stickers", "pencils", "cookies"]


def problems(rng: random.Random) -> list[dict]:
    rows = []
    for _ in range(40):
        name, thing = rng.choice(NAMES), rng.choice(THINGS)
        a, b = rng.randint(2, 30), rng.randint(2, 20)
        rows.append({"question": f"{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have now?",
                     "answer": str(a + b)})
    for _ in range(30):
        name, thing = rng.choice(NAMES), rng.choice(THINGS)
        a, b = rng.randint(10, 40), rng.randint(1, 9)
        rows.append({"question": f"{name} had {a} {thing} and gave away {b}. How many {thing} are left?",
                     "answer": str(a - b)})
    for _ in range(30):
        name = rng.choice(NAMES)
        price, count = rng.randint(2, 9), rng.randint(2, 6)
        rows.append({"question": f"A pen costs ${price}. {name} buys {count} pens. How many dollars does {name} spend?",
                     "answer": str(price * count)})
    for _ in range(25):
        a = rng.choice([1, 3, 5, 7, 9])
        rows.append({"question": f"A pizza is cut in half. What fraction of the pizza is one piece? Then what is half of {a}?",
                     "answer": f"{a}/2"})
    for _ in range(25):
        a, b = rng.sample(range(1, 50), 2)
        rows.append({"question": f"Which number is larger, {a} or {b}?", "answer": str(max(a, b))})
    for _ in range(25):
        t = rng.randint(-9, -1)
        d = rng.randint(1, 9)
        rows.append({"question": f"The temperature is {t} degrees and falls by {d} degrees. What is the temperature now?",
                     "answer": str(t - d)})
    for _ in range(25):
        word = rng.choice(["red", "blue", "green", "yellow"])
        rows.append({"question": f"Sam paints a {word} fence {rng.randint(2, 9)} times. What color is the fence?",
                     "answer": word})
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("word_problems.jsonl")
    seen, lines = set(), []
    for row in problems(random.Random(7)):
        if row["question"] not in seen:
            seen.add(row["question"])
            lines.append(json.dumps(row))
    out.write_text("\n".join(lines) + "\n")
    print(len(lines), "problems ->", out)
