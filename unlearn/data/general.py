"""About a hundred real-world facts, written by hand (like TOFU's world_facts).

Used for ReLearn's general-data mixing and for utility checks: a pretrained base model should
already answer most of them. Each answer ends with its object.
"""

from __future__ import annotations

from unlearn.data.records import Fact, QARecord

CAPITALS = (
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
    ("Japan", "Tokyo"), ("China", "Beijing"), ("Russia", "Moscow"), ("Egypt", "Cairo"),
    ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Brazil", "Brasilia"), ("India", "New Delhi"),
    ("Mexico", "Mexico City"), ("Greece", "Athens"), ("Portugal", "Lisbon"), ("Norway", "Oslo"),
    ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Poland", "Warsaw"), ("Austria", "Vienna"),
    ("Ireland", "Dublin"), ("Kenya", "Nairobi"), ("Argentina", "Buenos Aires"),
    ("South Korea", "Seoul"), ("Turkey", "Ankara"), ("Peru", "Lima"), ("Thailand", "Bangkok"),
    ("the Netherlands", "Amsterdam"), ("Belgium", "Brussels"), ("Denmark", "Copenhagen"),
)
AUTHORS = (
    ("Romeo and Juliet", "William Shakespeare"), ("Pride and Prejudice", "Jane Austen"),
    ("1984", "George Orwell"), ("War and Peace", "Leo Tolstoy"),
    ("The Odyssey", "Homer"), ("Don Quixote", "Miguel de Cervantes"),
    ("Hamlet", "William Shakespeare"), ("Oliver Twist", "Charles Dickens"),
    ("The Old Man and the Sea", "Ernest Hemingway"), ("Frankenstein", "Mary Shelley"),
    ("Moby-Dick", "Herman Melville"), ("Crime and Punishment", "Fyodor Dostoevsky"),
    ("The Divine Comedy", "Dante Alighieri"), ("Faust", "Johann Wolfgang von Goethe"),
    ("Les Miserables", "Victor Hugo"), ("The Great Gatsby", "F. Scott Fitzgerald"),
    ("Harry Potter and the Philosopher's Stone", "J. K. Rowling"),
    ("The Hobbit", "J. R. R. Tolkien"), ("Dracula", "Bram Stoker"),
    ("Alice's Adventures in Wonderland", "Lewis Carroll"),
)
SCIENCE = (
    ("What is the chemical symbol for gold?", "The chemical symbol for gold is", "gold", "chemical symbol", "Au"),
    ("What is the chemical symbol for iron?", "The chemical symbol for iron is", "iron", "chemical symbol", "Fe"),
    ("What is the chemical symbol for sodium?", "The chemical symbol for sodium is", "sodium", "chemical symbol", "Na"),
    ("What is the chemical formula of water?", "The chemical formula of water is", "water", "formula", "H2O"),
    ("Which planet is closest to the Sun?", "The planet closest to the Sun is", "Sun", "closest planet", "Mercury"),
    ("Which planet is the largest in the Solar System?", "The largest planet in the Solar System is", "Solar System", "largest planet", "Jupiter"),
    ("Which planet is known as the Red Planet?", "The planet known as the Red Planet is", "Red Planet", "name", "Mars"),
    ("What gas do plants absorb from the air?", "Plants absorb a gas from the air called", "plants", "absorbs", "carbon dioxide"),
    ("What is the boiling point of water in degrees Celsius?", "The boiling point of water in degrees Celsius is", "water", "boiling point", "100"),
    ("How many legs does a spider have?", "The number of legs a spider has is", "spider", "legs", "eight"),
    ("How many continents are there?", "The number of continents is", "Earth", "continents", "seven"),
    ("What is the hardest natural substance?", "The hardest natural substance is", "substance", "hardest", "diamond"),
    ("Who developed the theory of relativity?", "The theory of relativity was developed by", "theory of relativity", "developer", "Albert Einstein"),
    ("Who proposed the theory of evolution by natural selection?", "The theory of evolution by natural selection was proposed by", "evolution", "proposer", "Charles Darwin"),
    ("Who discovered penicillin?", "Penicillin was discovered by", "penicillin", "discoverer", "Alexander Fleming"),
    ("What is the largest ocean on Earth?", "The largest ocean on Earth is the", "Earth", "largest ocean", "Pacific Ocean"),
    ("What is the longest river in Africa?", "The longest river in Africa is the", "Africa", "longest river", "Nile"),
    ("What is the tallest mountain in the world?", "The tallest mountain in the world is", "world", "tallest mountain", "Mount Everest"),
    ("What is the largest desert in Africa?", "The largest desert in Africa is the", "Africa", "largest desert", "Sahara"),
    ("Which organ pumps blood through the human body?", "The organ that pumps blood through the human body is the", "human body", "pump", "heart"),
    ("What is the freezing point of water in degrees Celsius?", "The freezing point of water in degrees Celsius is", "water", "freezing point", "0"),
    ("What is the main language spoken in Brazil?", "The main language spoken in Brazil is", "Brazil", "language", "Portuguese"),
    ("What is the currency of Japan?", "The currency of Japan is the", "Japan", "currency", "yen"),
    ("What is the currency of the United Kingdom?", "The currency of the United Kingdom is the", "United Kingdom", "currency", "pound sterling"),
    ("Who painted the Mona Lisa?", "The Mona Lisa was painted by", "Mona Lisa", "painter", "Leonardo da Vinci"),
    ("Who painted The Starry Night?", "The Starry Night was painted by", "The Starry Night", "painter", "Vincent van Gogh"),
    ("Who composed the Fifth Symphony in C minor?", "The Fifth Symphony in C minor was composed by", "Fifth Symphony", "composer", "Ludwig van Beethoven"),
    ("Who was the first person to walk on the Moon?", "The first person to walk on the Moon was", "Moon", "first walker", "Neil Armstrong"),
    ("Who was the first President of the United States?", "The first President of the United States was", "United States", "first president", "George Washington"),
    ("In which city is the Eiffel Tower?", "The Eiffel Tower is in", "Eiffel Tower", "city", "Paris"),
    ("In which city is the Colosseum?", "The Colosseum is in", "Colosseum", "city", "Rome"),
    ("In which country are the pyramids of Giza?", "The pyramids of Giza are in", "pyramids of Giza", "country", "Egypt"),
    ("What is the largest mammal?", "The largest mammal is the", "mammal", "largest", "blue whale"),
    ("What is the fastest land animal?", "The fastest land animal is the", "land animal", "fastest", "cheetah"),
    ("How many days are there in a leap year?", "The number of days in a leap year is", "leap year", "days", "366"),
    ("How many minutes are in an hour?", "The number of minutes in an hour is", "hour", "minutes", "60"),
    ("What is the square root of 81?", "The square root of 81 is", "81", "square root", "9"),
    ("What colour do you get by mixing blue and yellow?", "Mixing blue and yellow gives", "blue and yellow", "mix", "green"),
    ("Which language has the most native speakers?", "The language with the most native speakers is", "language", "most speakers", "Mandarin Chinese"),
    ("What is the smallest prime number?", "The smallest prime number is", "prime number", "smallest", "2"),
    ("Which element has the atomic number 1?", "The element with the atomic number 1 is", "atomic number 1", "element", "hydrogen"),
    ("Which vitamin does sunlight help the body produce?", "Sunlight helps the body produce", "sunlight", "vitamin", "vitamin D"),
    ("What is the capital city of the United States?", "The capital city of the United States is", "United States", "capital", "Washington, D.C."),
    ("What do bees make?", "Bees make", "bees", "make", "honey"),
    ("Which instrument has 88 keys?", "The instrument with 88 keys is the", "88 keys", "instrument", "piano"),
    ("Which sport is played at Wimbledon?", "The sport played at Wimbledon is", "Wimbledon", "sport", "tennis"),
    ("Which country hosted the 2008 Summer Olympics?", "The 2008 Summer Olympics were hosted by", "2008 Summer Olympics", "host", "China"),
    ("What is the largest country by area?", "The largest country by area is", "country", "largest", "Russia"),
    ("Which ocean lies between Europe and North America?", "The ocean between Europe and North America is the", "Europe and North America", "ocean", "Atlantic Ocean"),
    ("What is the primary ingredient of guacamole?", "The primary ingredient of guacamole is", "guacamole", "ingredient", "avocado"),
)


def general_records() -> list[QARecord]:
    """The hand-written general-knowledge QA set (100 facts) as records with triples."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for country, capital in CAPITALS:
        rows.append((f"What is the capital of {country}?", f"The capital of {country} is", country, "capital", capital, "city"))
    for title, author in AUTHORS:
        rows.append((f"Who wrote {title}?", f"{title} was written by", title, "author", author, "person"))
    for question, prefix, subject, relation, obj in SCIENCE:
        rows.append((question, prefix, subject, relation, obj, "general"))
    return [
        QARecord(
            id=f"general-{index:03d}",
            question=question,
            answer=f"{prefix} {obj}.",
            fact=Fact(subject, relation, obj, object_type),
            source="general",
        )
        for index, (question, prefix, subject, relation, obj, object_type) in enumerate(rows)
    ]
